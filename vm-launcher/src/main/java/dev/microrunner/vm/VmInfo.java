package dev.microrunner.vm;

/**
 * A VM as a runtime lists it.
 *
 * @param state the runtime's own word for it ("running", "exited", "created", "defined" ...)
 */
public record VmInfo(String name, VmOwner owner, String state) {}

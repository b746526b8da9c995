package dev.microrunner.vm;

import java.util.Objects;

/**
 * A {@link VmSpec} field has an impossible value. {@link #field()} names the field, so that a
 * caller that built the spec from settings of its own can name its setting instead.
 */
public class InvalidSpecException extends IllegalArgumentException {

  private static final long serialVersionUID = 1L;

  private final String field;
  private final String problem;

  /**
   * @param vmName the VM's name, or what stands for it when the name itself is invalid
   * @param field the field, as the {@link VmSpec.Builder} method that sets it is called
   * @param problem what is wrong with the value, e.g. {@code must be positive, not 0}
   */
  public InvalidSpecException(String vmName, String field, String problem) {
    super("VM " + vmName + ": " + field + " " + problem);
    this.field = Objects.requireNonNull(field, "field");
    this.problem = Objects.requireNonNull(problem, "problem");
  }

  /**
   * The field: name, image, cpus, memoryMib, dns, mount, entrypoint, workdir, network, environment.
   */
  public String field() {
    return field;
  }

  /** What is wrong, without the field's name. */
  public String problem() {
    return problem;
  }
}

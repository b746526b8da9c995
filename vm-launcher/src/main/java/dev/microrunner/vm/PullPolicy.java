package dev.microrunner.vm;

/** When {@link MicroVmRuntime#pull} fetches an image. */
public enum PullPolicy {
  /** Pull only when the image is not in local storage. */
  MISSING,
  /** Always pull, to pick up a moved tag. */
  ALWAYS,
  /** Never pull; fail when the image is not in local storage. */
  NEVER
}

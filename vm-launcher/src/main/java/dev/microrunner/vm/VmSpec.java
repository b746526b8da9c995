package dev.microrunner.vm;

import com.google.common.net.InetAddresses;
import dev.microrunner.vm.internal.SecretVariables;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * What to start. The environment is for non-secret settings only: it shows up in runtime argv
 * ({@code podman run --env}) and in {@code podman inspect}. Secrets travel through the {@code
 * /_environment} handshake files.
 */
public record VmSpec(
    String name,
    String image,
    int cpus,
    int memoryMib,
    String dns,
    List<Mount> mounts,
    String entrypoint,
    List<String> args,
    Optional<String> workdir,
    Optional<String> network,
    Map<String, String> environment) {

  /** Container-name rules of podman, which are also safe for krunvm and file names. */
  private static final Pattern NAME = Pattern.compile("[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}");

  private static final Pattern ENV_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");

  public VmSpec {
    Objects.requireNonNull(name, "name");
    if (!NAME.matcher(name).matches()) {
      throw new InvalidSpecException(
          "'" + name + "'",
          "name",
          "must be 1-128 letters, digits, '_', '.' or '-', starting with a letter or digit");
    }
    if (image == null || image.isBlank()) {
      throw new InvalidSpecException(name, "image", "must not be empty");
    }
    if (cpus <= 0) {
      throw new InvalidSpecException(name, "cpus", "must be positive, not " + cpus);
    }
    if (memoryMib <= 0) {
      throw new InvalidSpecException(name, "memoryMib", "must be positive, not " + memoryMib);
    }
    if (dns == null || !InetAddresses.isInetAddress(dns)) {
      throw new InvalidSpecException(name, "dns", "must be an IP address, not '" + dns + "'");
    }
    if (entrypoint == null || entrypoint.isBlank()) {
      throw new InvalidSpecException(name, "entrypoint", "must not be empty");
    }
    mounts = List.copyOf(Objects.requireNonNull(mounts, "mounts"));
    Set<String> guestPaths = new HashSet<>();
    for (Mount mount : mounts) {
      if (!Files.exists(mount.hostPath())) {
        throw new InvalidSpecException(
            name, "mount", "host path does not exist: " + mount.hostPath());
      }
      if (!guestPaths.add(mount.guestPath())) {
        throw new InvalidSpecException(
            name, "mount", "guest path " + mount.guestPath() + " is mounted twice");
      }
    }
    args = List.copyOf(Objects.requireNonNull(args, "args"));
    Objects.requireNonNull(workdir, "workdir");
    if (workdir.isPresent() && !workdir.get().startsWith("/")) {
      throw new InvalidSpecException(
          name, "workdir", "must be an absolute guest path, not " + workdir.get());
    }
    Objects.requireNonNull(network, "network");
    if (network.isPresent() && network.get().isBlank()) {
      throw new InvalidSpecException(name, "network", "must not be blank");
    }
    environment = Map.copyOf(Objects.requireNonNull(environment, "environment"));
    for (String variable : environment.keySet()) {
      if (!ENV_NAME.matcher(variable).matches()) {
        throw new InvalidSpecException(
            name, "environment", "has an invalid variable name '" + variable + "'");
      }
      if (SecretVariables.isSecret(variable)) {
        throw new InvalidSpecException(
            name,
            "environment",
            "variable "
                + variable
                + " carries a secret; pass secrets through the /_environment .env file");
      }
    }
  }

  public static Builder builder() {
    return new Builder();
  }

  public Builder toBuilder() {
    Builder builder =
        builder()
            .name(name)
            .image(image)
            .cpus(cpus)
            .memoryMib(memoryMib)
            .dns(dns)
            .entrypoint(entrypoint)
            .args(args)
            .environment(environment);
    mounts.forEach(builder::mount);
    workdir.ifPresent(builder::workdir);
    network.ifPresent(builder::network);
    return builder;
  }

  /** Defaults: 2 vCPUs, 1024 MiB, DNS 1.1.1.1 (the shell implementation's defaults). */
  public static final class Builder {
    private String name;
    private String image;
    private int cpus = 2;
    private int memoryMib = 1024;
    private String dns = "1.1.1.1";
    private final List<Mount> mounts = new ArrayList<>();
    private String entrypoint;
    private List<String> args = List.of();
    private Optional<String> workdir = Optional.empty();
    private Optional<String> network = Optional.empty();
    private final Map<String, String> environment = new LinkedHashMap<>();

    private Builder() {}

    public Builder name(String name) {
      this.name = name;
      return this;
    }

    public Builder image(String image) {
      this.image = image;
      return this;
    }

    public Builder cpus(int cpus) {
      this.cpus = cpus;
      return this;
    }

    public Builder memoryMib(int memoryMib) {
      this.memoryMib = memoryMib;
      return this;
    }

    public Builder dns(String dns) {
      this.dns = dns;
      return this;
    }

    public Builder mount(Mount mount) {
      mounts.add(mount);
      return this;
    }

    public Builder entrypoint(String entrypoint) {
      this.entrypoint = entrypoint;
      return this;
    }

    public Builder args(List<String> args) {
      this.args = List.copyOf(args);
      return this;
    }

    public Builder args(String... args) {
      return args(List.of(args));
    }

    public Builder workdir(String workdir) {
      this.workdir = Optional.of(workdir);
      return this;
    }

    /** A podman network mode such as {@code host} or {@code none}. */
    public Builder network(String network) {
      this.network = Optional.of(network);
      return this;
    }

    public Builder environment(String variable, String value) {
      environment.put(variable, value);
      return this;
    }

    public Builder environment(Map<String, String> values) {
      environment.putAll(values);
      return this;
    }

    public VmSpec build() {
      return new VmSpec(
          name,
          image,
          cpus,
          memoryMib,
          dns,
          mounts,
          entrypoint,
          args,
          workdir,
          network,
          environment);
    }
  }
}

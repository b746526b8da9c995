package dev.microrunner.vm.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class KrunvmListTest {
  @Test
  void readsNoVms() {
    assertEquals(List.of(), KrunvmList.parse(List.of("No microVMs found")));
    assertEquals(List.of(), KrunvmList.parse(List.of()));
  }

  @Test
  void readsEveryVmWithItsFields() {
    List<String> output =
        List.of(
            "",
            "GH-runner-001-3",
            " CPUs: 2",
            " RAM (MiB): 1024",
            " DNS server: 1.1.1.1",
            " Buildah container: GH-runner-001-3-working-container",
            " Workdir: /",
            " Mapped volumes: {\"/srv/loop\": \"/_environment\"}",
            " Mapped ports: {}",
            "",
            "other",
            " CPUs: 4");

    List<KrunvmList.Vm> vms = KrunvmList.parse(output);

    assertEquals(
        List.of("GH-runner-001-3", "other"), vms.stream().map(KrunvmList.Vm::name).toList());
    assertEquals("1024", vms.get(0).fields().get("RAM (MiB)"));
    assertEquals("{\"/srv/loop\": \"/_environment\"}", vms.get(0).fields().get("Mapped volumes"));
    assertEquals(Map.of("CPUs", "4"), vms.get(1).fields());
  }

  @Test
  void toleratesMissingBlankLinesTabsUnknownKeysAndStrayText() {
    List<String> output =
        List.of(
            "Some warning: with spaces before any VM",
            " Orphan: field",
            "vm-a  ",
            "\tCPUs: 1",
            "\tFuture key: x",
            "vm-b");

    List<KrunvmList.Vm> vms = KrunvmList.parse(output);

    assertEquals(List.of("vm-a", "vm-b"), vms.stream().map(KrunvmList.Vm::name).toList());
    assertEquals("1", vms.get(0).fields().get("CPUs"));
  }
}

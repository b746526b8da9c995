package dev.microrunner.github.sim.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.microrunner.github.sim.Fault;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class FaultsTest {

  private final Faults faults = new Faults();

  @Test
  void primaryRateLimitsComeFirstThenSecondaryThenServerErrorsOneRequestEach() {
    faults.inject(Fault.serverError(1, 502));
    faults.inject(Fault.secondaryRateLimit(1, Duration.ofSeconds(5)));
    faults.inject(new Fault(Fault.Kind.PRIMARY_RATE_LIMIT, 2, 429, Duration.ofSeconds(60)));

    Fault primary = new Fault(Fault.Kind.PRIMARY_RATE_LIMIT, 1, 429, Duration.ofSeconds(60));
    assertEquals(Optional.of(primary), faults.take());
    assertEquals(Optional.of(primary), faults.take());
    assertEquals(
        Optional.of(new Fault(Fault.Kind.SECONDARY_RATE_LIMIT, 1, 403, Duration.ofSeconds(5))),
        faults.take());
    assertEquals(Optional.of(Fault.serverError(1, 502)), faults.take());
    assertEquals(Optional.empty(), faults.take());
  }

  @Test
  void aNewFaultReplacesWhatIsLeftOfItsKind() {
    faults.inject(Fault.serverError(5, 500));
    faults.inject(Fault.serverError(1, 503));

    assertEquals(Optional.of(Fault.serverError(1, 503)), faults.take());
    assertEquals(Optional.empty(), faults.take());
  }

  @Test
  void latencyStaysUntilClearedAndClearingRemovesEveryPendingFault() {
    faults.inject(Fault.latency(Duration.ofMillis(200)));
    faults.inject(Fault.primaryRateLimit(3, Duration.ZERO));
    faults.inject(Fault.secondaryRateLimit(3, Duration.ZERO));
    faults.inject(Fault.serverError(3, 500));
    faults.take();

    assertEquals(Duration.ofMillis(200), faults.latency());
    assertEquals(Duration.ofMillis(200), faults.latency());

    faults.clear();
    assertEquals(Duration.ZERO, faults.latency());
    assertEquals(Optional.empty(), faults.take());
  }
}

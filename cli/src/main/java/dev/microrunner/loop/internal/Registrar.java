package dev.microrunner.loop.internal;

import dev.microrunner.github.GitHubException;
import dev.microrunner.github.GitHubRunnerClient;
import dev.microrunner.github.GitHubValidationException;
import dev.microrunner.github.JitConfig;
import dev.microrunner.github.JitRequest;
import dev.microrunner.github.RegistrationToken;
import dev.microrunner.github.Runner;
import dev.microrunner.handshake.EnvFile;
import dev.microrunner.handshake.LoopSecret;
import dev.microrunner.handshake.RunnerId;
import dev.microrunner.loop.LoopTime;
import dev.microrunner.loop.Redactor;
import dev.microrunner.loop.RegistrationMode;
import dev.microrunner.loop.RunnerConfig;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Registers runners at GitHub on the host and removes them again, keeping the instance journal and
 * the redactor in step. Thread-safe: loops prepare registrations in the background.
 */
public final class Registrar {

  private static final Logger LOG = LoggerFactory.getLogger(Registrar.class);

  /** A registration token is reused until this close to its expiry. */
  private static final Duration TOKEN_MARGIN = Duration.ofMinutes(10);

  /** GitHub answers 422 for a runner that it still sees busy; it settles quickly. */
  private static final int DELETE_ATTEMPTS = 5;

  private static final Duration DELETE_RETRY_DELAY = Duration.ofMillis(500);

  /**
   * One runner's registration, with the {@code .env} values for its VM (which hold secrets: keep it
   * in memory only).
   *
   * @param githubId the runner's id at GitHub, or -1 when only the name is known (token mode)
   */
  public record Registration(
      RunnerId id, String name, long githubId, Map<String, String> environment, String secret) {
    @Override
    public String toString() {
      return "Registration[" + name + "]";
    }
  }

  private final GitHubRunnerClient github;
  private final RunnerConfig config;
  private final long groupId;
  private final InstanceJournal journal;
  private final Redactor redactor;
  private final LoopTime time;
  private RegistrationToken token;
  private final List<String> uncertain = new ArrayList<>();

  public Registrar(
      GitHubRunnerClient github,
      RunnerConfig config,
      long groupId,
      InstanceJournal journal,
      Redactor redactor,
      LoopTime time) {
    this.github = github;
    this.config = config;
    this.groupId = groupId;
    this.journal = journal;
    this.redactor = redactor;
    this.time = time;
  }

  /** Obtains a JIT config (or a registration token) for the runner {@code id}. */
  public Registration register(RunnerId id, LoopSecret secret, String guestUser)
      throws GitHubException, IOException {
    String name = config.runnerName(id.toString());
    Map<String, String> env = new LinkedHashMap<>();
    env.put(EnvFile.RUNNER_SECRET, secret.reveal());
    env.put(EnvFile.RUNNER_NAME, name);
    env.put(EnvFile.RUNNER_LABELS, String.join(",", config.effectiveLabels()));
    env.put(EnvFile.RUNNER_GROUP, config.group());
    env.put(EnvFile.RUNNER_URL, config.scope().runnerUrl(config.target()).toString());
    env.put(EnvFile.RUNNER_USER, guestUser);
    env.put(EnvFile.RUNNER_UPDATE, config.update() ? "1" : "0");
    config.workFolder().ifPresent(w -> env.put(EnvFile.RUNNER_WORKDIR, w));
    if (config.registration() == RegistrationMode.JIT) {
      // Written ahead: if this process dies once the request left, a later instance finds the
      // registration by its name, whether or not the response ever arrived.
      journal.add(name, InstanceJournal.UNKNOWN_ID);
      JitConfig jit;
      try {
        jit =
            github.generateJitConfig(
                new JitRequest(name, groupId, config.effectiveLabels(), config.workFolder()));
      } catch (GitHubException e) {
        forgetUnlessMaybeCreated(name, e);
        throw e;
      }
      String encoded = jit.encodedJitConfig().reveal();
      redactor.add(encoded);
      journal.add(name, jit.runner().id());
      env.put(EnvFile.RUNNER_JITCONFIG, encoded);
      return new Registration(id, name, jit.runner().id(), env, encoded);
    }
    String value = registrationToken();
    journal.add(name, InstanceJournal.UNKNOWN_ID);
    env.put(EnvFile.RUNNER_TOKEN, value);
    return new Registration(id, name, -1, env, value);
  }

  /**
   * Drops the journal entry of a JIT request that GitHub answered with a refusal: nothing was
   * created. Any other failure (no answer, a server error) may have created the runner; its entry
   * stays, and {@link #removeUncertain()} or a later instance looks for it by name.
   */
  private void forgetUnlessMaybeCreated(String name, GitHubException failure) {
    if (failure.isRefusal()) {
      try {
        journal.remove(name);
      } catch (IOException e) {
        LOG.warn("Could not update the journal for {}: {}", name, e.getMessage());
      }
    } else {
      synchronized (uncertain) {
        uncertain.add(name);
      }
    }
  }

  /**
   * Removes, by name, the runners whose JIT request failed without an answer that says nothing was
   * created. Called when the loops are done.
   */
  public void removeUncertain() {
    List<String> names;
    synchronized (uncertain) {
      names = List.copyOf(uncertain);
      uncertain.clear();
    }
    for (String name : names) {
      try {
        removeAbandoned(github, name, InstanceJournal.UNKNOWN_ID);
        journal.remove(name);
      } catch (GitHubException | IOException e) {
        LOG.warn("Could not remove the registration of {}: {}", name, e.getMessage());
      }
    }
  }

  private synchronized String registrationToken() throws GitHubException {
    if (token == null || token.expiresAt().isBefore(Instant.now().plus(TOKEN_MARGIN))) {
      token = github.createRegistrationToken();
      redactor.add(token.token().reveal());
    }
    return token.token().reveal();
  }

  /**
   * Removes the registration if GitHub still has it.
   *
   * @return true if this call removed it, false if it was already gone
   */
  public boolean remove(Registration registration) throws GitHubException, IOException {
    String name = registration.name();
    long githubId = registration.githubId();
    boolean removed = false;
    long id = githubId;
    if (id < 0) {
      Optional<Runner> runner = github.findRunnerByName(name);
      id = runner.map(Runner::id).orElse(-1L);
    }
    if (id >= 0) {
      removed = deleteWithRetry(name, id);
    }
    journal.remove(name);
    return removed;
  }

  private boolean deleteWithRetry(String name, long id) throws GitHubException {
    for (int attempt = 1; ; attempt++) {
      try {
        boolean removed = github.deleteRunner(id);
        if (removed) {
          LOG.debug("Removed registration of {} (id {})", name, id);
        }
        return removed;
      } catch (GitHubValidationException busy) {
        if (attempt >= DELETE_ATTEMPTS) {
          throw busy;
        }
        try {
          time.sleep(DELETE_RETRY_DELAY);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw busy;
        }
      }
    }
  }

  /**
   * Removes a registration that a dead instance recorded (by id, or by name if the id is unknown).
   */
  public static void removeAbandoned(GitHubRunnerClient github, String name, long githubId)
      throws GitHubException {
    long id = githubId;
    if (id < 0) {
      id = github.findRunnerByName(name).map(Runner::id).orElse(-1L);
    }
    if (id >= 0) {
      github.deleteRunner(id);
    }
  }

  /**
   * Forgets the secret of a registration that is over: its JIT config. A registration token serves
   * several runners and stays masked while this registrar lives (one new token an hour at most).
   */
  public void forgetSecret(Registration registration) {
    if (registration.githubId() >= 0) {
      redactor.forget(registration.secret());
    }
  }
}

package dev.microrunner.github.sim;

import java.util.Objects;
import java.util.Optional;

/**
 * One webhook delivery of the simulator and how it went, as GitHub's "Recent Deliveries" shows it.
 *
 * @param id the {@code X-GitHub-Delivery} (a UUID), the same for every try
 * @param hookId the webhook's id ({@code X-GitHub-Hook-ID})
 * @param event {@code X-GitHub-Event}: {@code workflow_job} or {@code ping}
 * @param action the payload's {@code action} ({@code queued}, {@code in_progress}, {@code
 *     completed}); empty for a ping
 * @param jobId the workflow job it is about; empty for a ping
 * @param attempts the tries made so far
 * @param responseStatus the HTTP status of the latest try that got an answer
 * @param error why the latest try failed without an answer (connection refused, timeout)
 */
public record SimWebhookDelivery(
    String id,
    long hookId,
    String event,
    Optional<String> action,
    Optional<Long> jobId,
    Status status,
    int attempts,
    Optional<Integer> responseStatus,
    Optional<String> error) {

  /** Where a delivery is. */
  public enum Status {
    /** Not yet tried, being tried, or waiting to be tried again. */
    PENDING,
    /** A try got a 2xx answer. */
    DELIVERED,
    /** Every try failed: no answer, or not a 2xx one. */
    FAILED
  }

  public SimWebhookDelivery {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(event, "event");
    Objects.requireNonNull(action, "action");
    Objects.requireNonNull(jobId, "jobId");
    Objects.requireNonNull(status, "status");
    Objects.requireNonNull(responseStatus, "responseStatus");
    Objects.requireNonNull(error, "error");
  }
}

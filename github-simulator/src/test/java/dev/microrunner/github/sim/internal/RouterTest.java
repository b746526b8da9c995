package dev.microrunner.github.sim.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.TextNode;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class RouterTest {

  private static Reply reply(String text) {
    return Reply.of(200, TextNode.valueOf(text));
  }

  private static Optional<String> route(Router<String> router, String method, String path)
      throws Exception {
    return router.route(method, path, "call").map(reply -> reply.body().asText());
  }

  @Test
  void theMethodAndTheWholePathSelectTheEndpoint() throws Exception {
    Router<String> router =
        new Router<String>()
            .get("/things", (call, path) -> reply("list"))
            .post("/things", (call, path) -> reply("create"))
            .delete("/things/(\\d+)", (call, path) -> reply("delete " + path.group(1)));

    assertEquals(Optional.of("list"), route(router, "GET", "/things"));
    assertEquals(Optional.of("create"), route(router, "POST", "/things"));
    assertEquals(Optional.of("delete 42"), route(router, "DELETE", "/things/42"));
    assertTrue(route(router, "PUT", "/things").isEmpty(), "no route for the method");
    assertTrue(route(router, "GET", "/things/").isEmpty(), "the whole path must match");
    assertTrue(route(router, "GET", "/x/things").isEmpty(), "the whole path must match");
    assertTrue(route(router, "DELETE", "/things/abc").isEmpty());
  }

  @Test
  void theFirstMatchingRouteWinsAndAnyMethodCatchesTheRest() throws Exception {
    Router<String> router =
        new Router<String>()
            .get("/runners/(\\d+)", (call, path) -> reply("get " + call))
            .anyMethod("/runners/(\\d+)", (call, path) -> reply("other " + path.group(1)))
            .get("/runners/1", (call, path) -> reply("never reached"));

    assertEquals(Optional.of("get call"), route(router, "GET", "/runners/1"));
    assertEquals(Optional.of("other 7"), route(router, "PATCH", "/runners/7"));
    assertEquals(Optional.of("other 7"), route(router, "HEAD", "/runners/7"));
  }
}

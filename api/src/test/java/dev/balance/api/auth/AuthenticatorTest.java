package dev.balance.api.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The rules of who signed a request, without a node: key roles, rotation, the node key, the limits. */
class AuthenticatorTest {

    private static final long NOW = 1_800_000_000_000L;
    private static final byte[] EMPTY = new byte[0];

    @Test
    void shouldDeriveTheSameNodeKeyFromTheSameWriteSecretAndNoneFromAReadSecret() {
        Credentials a = Credentials.parse("w:write-secret-0123456:write,r:read-secret-01234567:read", null, null);
        Credentials b = Credentials.parse("w:write-secret-0123456:write", null, null);
        Credentials readOnlyWithNodeSecret = Credentials.parse("r:read-secret-01234567:read", null, "node-secret-0123456789");

        assertThat(a.nodeSecrets()).hasSize(1).isEqualTo(b.nodeSecrets());
        assertThat(readOnlyWithNodeSecret.nodeSecrets()).containsExactly("node-secret-0123456789");
        assertThatThrownBy(() -> Credentials.parse("r:read-secret-01234567:read", null, null))
                .hasMessageContaining("NODE_SECRET");
    }

    @Test
    void shouldAcceptANodeRequestWhenAnyOfItsSignaturesMatchesAnyNodeSecretOfTheReceiver() {
        // The sender is half-way through a rotation (old and new), the receiver already has only the new secret.
        Credentials sender = Credentials.parse(null, null, "old-node-secret-0123,new-node-secret-0123");
        Credentials receiver = Credentials.parse(null, "legacy", "new-node-secret-0123");
        Map<String, String> headers = new NodeSigner(sender).headers("GET", "/api/v1/balance/1", EMPTY, NOW);

        Authenticator.Outcome outcome = new Authenticator(receiver, 1_000).authenticate(request("GET", "/api/v1/balance/1", headers), NOW);

        assertThat(outcome.accepted()).isTrue();
        assertThat(outcome.caller().isNode()).isTrue();
        assertThat(outcome.caller().role()).isEqualTo(Role.WRITE);
    }

    @Test
    void shouldBindANodeSignatureToItsMethodAndPath() {
        Credentials nodes = Credentials.parse(null, "legacy", "node-secret-0123456789");
        Map<String, String> headers = new NodeSigner(nodes).headers("GET", "/api/v1/balance/1", EMPTY, NOW);
        Authenticator authenticator = new Authenticator(nodes, 1_000);

        assertThat(authenticator.authenticate(request("GET", "/api/v1/balance/2", headers), NOW).refusal())
                .isEqualTo(Authenticator.Refusal.BAD_SIGNATURE);
        assertThat(authenticator.authenticate(request("POST", "/api/v1/balance/1", headers), NOW).refusal())
                .isEqualTo(Authenticator.Refusal.BAD_SIGNATURE);
    }

    @Test
    void shouldRefuseMoreNodeSignaturesThanTheLimit() {
        Credentials nodes = Credentials.parse(null, "legacy", "node-secret-0123456789");
        Map<String, String> headers = new HashMap<>(new NodeSigner(nodes).headers("GET", "/x", EMPTY, NOW));
        headers.put("X-Signature", (headers.get("X-Signature") + ",").repeat(Authenticator.NODE_SIGNATURES_MAX)
                + headers.get("X-Signature"));

        assertThat(new Authenticator(nodes, 1_000).authenticate(request("GET", "/x", headers), NOW).refusal())
                .isEqualTo(Authenticator.Refusal.MALFORMED);
    }

    @Test
    void shouldNameEachRefusal() {
        Credentials keys = Credentials.parse("k:key-secret-0123456789:write", null, null);
        Authenticator authenticator = new Authenticator(keys, 1_000);
        String good = Signatures.v2("key-secret-0123456789", Long.toString(NOW), "GET", "/x", EMPTY);

        assertThat(refusal(authenticator, Map.of("X-Timestamp", Long.toString(NOW), "X-Signature", good)))
                .isEqualTo(Authenticator.Refusal.MISSING);
        assertThat(refusal(authenticator, Map.of("X-Key-Id", "k", "X-Timestamp", "-1", "X-Signature", good)))
                .isEqualTo(Authenticator.Refusal.MALFORMED);
        assertThat(refusal(authenticator, Map.of("X-Key-Id", "k", "X-Timestamp", Long.toString(NOW - 1_001), "X-Signature", good)))
                .isEqualTo(Authenticator.Refusal.EXPIRED);
        assertThat(refusal(authenticator, Map.of("X-Key-Id", "other", "X-Timestamp", Long.toString(NOW), "X-Signature", good)))
                .isEqualTo(Authenticator.Refusal.UNKNOWN_KEY);
        assertThat(refusal(authenticator, Map.of("X-Key-Id", "k", "X-Timestamp", Long.toString(NOW), "X-Signature",
                good.replace(good.charAt(0), good.charAt(0) == 'a' ? 'b' : 'a'))))
                .isEqualTo(Authenticator.Refusal.BAD_SIGNATURE);
        assertThat(authenticator.authenticate(request("GET", "/x",
                Map.of("X-Key-Id", "k", "X-Timestamp", Long.toString(NOW), "X-Signature", good)), NOW).caller())
                .isEqualTo(new Caller("k", Role.WRITE));
    }

    @Test
    void shouldLetAReadRoleReadAndAWriteRoleDoEverything() {
        assertThat(Role.READ.permits(Access.READ)).isTrue();
        assertThat(Role.READ.permits(Access.WRITE)).isFalse();
        assertThat(Role.WRITE.permits(Access.READ)).isTrue();
        assertThat(Role.WRITE.permits(Access.WRITE)).isTrue();
    }

    @Test
    void shouldRefuseKeysThatCannotBeUsedSafely() {
        assertThatThrownBy(() -> Credentials.parse("k:short:write", null, null)).hasMessageContaining("at least 16");
        assertThatThrownBy(() -> Credentials.parse("k:key-secret-0123456789:admin", null, null)).hasMessageContaining("role");
        assertThatThrownBy(() -> Credentials.parse("key-secret-0123456789", null, null)).hasMessageContaining("key_id:secret:role");
        assertThatThrownBy(() -> Credentials.parse("@node:key-secret-0123456789:write", null, null)).hasMessageContaining("key id");
        assertThatThrownBy(() -> Credentials.parse("k:key-secret-0123456789:write,k:key-secret-9876543210:read", null, null))
                .hasMessageContaining("two roles");
    }

    @Test
    void shouldKeepSecretsOutOfToString() {
        Credentials credentials = Credentials.parse("k:key:secret:0123456789:write", "the-hmac-secret", null);

        assertThat(credentials.keys().get(0).secret()).isEqualTo("key:secret:0123456789");
        assertThat(credentials.toString()).doesNotContain("key:secret", "the-hmac-secret", credentials.nodeSecrets().get(0));
    }

    private static Authenticator.Refusal refusal(Authenticator authenticator, Map<String, String> headers) {
        return authenticator.authenticate(request("GET", "/x", headers), NOW).refusal();
    }

    private static Authenticator.Request request(String method, String path, Map<String, String> headers) {
        return new Authenticator.Request(method, path, headers::get, "".getBytes(StandardCharsets.UTF_8));
    }
}

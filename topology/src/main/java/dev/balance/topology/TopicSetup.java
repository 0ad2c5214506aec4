package dev.balance.topology;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.KafkaFuture;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.errors.TopicExistsException;

/**
 * Creates the topics of DESIGN §3 when they are missing. Existing topics are left as they are
 * (partition counts are never changed behind the operator's back: that would move keys).
 */
public final class TopicSetup {

    private static final long ADMIN_TIMEOUT_MS = 60_000;

    private TopicSetup() {
    }

    /** Creates the missing topics; returns the names it created. */
    public static List<String> ensureTopics(String bootstrapServers, KafkaClientProperties client, TopicNames names,
                                            int partitions, short replicationFactor, int minInsyncReplicas) {
        try (Admin admin = Admin.create(client.addTo(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
                AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, (int) ADMIN_TIMEOUT_MS)))) {
            Set<String> existing = admin.listTopics().names().get(ADMIN_TIMEOUT_MS, TimeUnit.MILLISECONDS);
            Map<String, String> configs = Map.of(TopicConfig.MIN_IN_SYNC_REPLICAS_CONFIG, Integer.toString(minInsyncReplicas));
            // Commands are stamped by the broker, one clock per partition, not by each API node's clock.
            Map<String, String> changesConfigs = new HashMap<>(configs);
            changesConfigs.put(TopicConfig.MESSAGE_TIMESTAMP_TYPE_CONFIG, "LogAppendTime");
            List<NewTopic> missing = new ArrayList<>();
            for (String name : names.all()) {
                if (!existing.contains(name)) {
                    missing.add(new NewTopic(name, partitions, replicationFactor)
                            .configs(name.equals(names.changes()) ? changesConfigs : configs));
                }
            }
            List<String> created = create(admin, missing);
            if (existing.contains(names.changes())) {
                // Topics made by an older release or by hand get the broker's clock too; setting it again is a no-op.
                ConfigResource changes = new ConfigResource(ConfigResource.Type.TOPIC, names.changes());
                AlterConfigOp logAppendTime = new AlterConfigOp(
                        new ConfigEntry(TopicConfig.MESSAGE_TIMESTAMP_TYPE_CONFIG, "LogAppendTime"), AlterConfigOp.OpType.SET);
                admin.incrementalAlterConfigs(Map.of(changes, List.of(logAppendTime)))
                        .all().get(ADMIN_TIMEOUT_MS, TimeUnit.MILLISECONDS);
            }
            return created;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while creating topics", e);
        } catch (ExecutionException | TimeoutException e) {
            throw new IllegalStateException("could not create topics on " + bootstrapServers + ": " + e.getMessage(), e);
        }
    }

    /**
     * Creates the topics and returns those this call created. Nodes starting together race to
     * create the same topics; a topic another node created meanwhile counts as existing.
     */
    private static List<String> create(Admin admin, List<NewTopic> topics)
            throws InterruptedException, ExecutionException, TimeoutException {
        List<String> created = new ArrayList<>();
        for (Map.Entry<String, KafkaFuture<Void>> result : admin.createTopics(topics).values().entrySet()) {
            try {
                result.getValue().get(ADMIN_TIMEOUT_MS, TimeUnit.MILLISECONDS);
                created.add(result.getKey());
            } catch (ExecutionException e) {
                if (!(e.getCause() instanceof TopicExistsException)) {
                    throw e;
                }
            }
        }
        return created;
    }

    /**
     * Usage: TopicSetup bootstrapServers partitions replicationFactor minInsyncReplicas [topicPrefix];
     * TLS/SASL settings from the file named by KAFKA_CLIENT_PROPERTIES, as for the node.
     */
    public static void main(String[] args) {
        if (args.length < 4) {
            System.err.println("usage: TopicSetup <bootstrap> <partitions> <replication-factor> <min-insync-replicas> [prefix]");
            System.exit(2);
        }
        TopicNames names = TopicNames.withPrefix(args.length > 4 ? args[4] : "");
        List<String> created = ensureTopics(args[0], KafkaClientProperties.fromEnv(System.getenv()), names,
                Integer.parseInt(args[1]), Short.parseShort(args[2]), Integer.parseInt(args[3]));
        for (String name : names.all()) {
            System.out.println((created.contains(name) ? "created " : "exists  ") + name);
        }
    }
}

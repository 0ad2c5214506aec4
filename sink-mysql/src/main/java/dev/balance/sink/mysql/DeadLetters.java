package dev.balance.sink.mysql;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * Sends events that can never be written to the dead-letter topic: the original key and bytes,
 * the original headers, and headers naming the error and the source record (the same header
 * names the topology uses for its own dead letters). A batch's offsets are committed only after
 * its dead letters are acknowledged, so a dead letter is never lost, though it may be sent twice.
 */
final class DeadLetters implements AutoCloseable {

    static final String COMPONENT = "sink-mysql";
    private static final int MESSAGE_LENGTH_MAX = 1000;
    private static final long ACK_MARGIN_MS = 5000;

    private final Producer<byte[], byte[]> producer;
    private final String topic;
    private final long sendTimeoutMs;

    DeadLetters(MysqlSinkConfig config) {
        this.producer = new KafkaProducer<>(producerConfig(config), new ByteArraySerializer(), new ByteArraySerializer());
        this.topic = config.dlqTopic();
        // The producer gives up by itself after the delivery timeout; the margin covers its last request.
        this.sendTimeoutMs = config.dlqDeliveryTimeoutMs() + ACK_MARGIN_MS;
    }

    /** One record to dead-letter and why. */
    record DeadLetter(ConsumerRecord<byte[], byte[]> source, Throwable error) {
    }

    /** Sends all and waits for every acknowledgement; a failure means none may be counted as sent. */
    void sendAll(List<DeadLetter> letters) throws DeadLetterException {
        List<Future<RecordMetadata>> acks = new ArrayList<>(letters.size());
        for (DeadLetter letter : letters) {
            acks.add(producer.send(toRecord(letter)));
        }
        for (Future<RecordMetadata> ack : acks) {
            await(ack);
        }
    }

    private void await(Future<RecordMetadata> ack) throws DeadLetterException {
        try {
            ack.get(sendTimeoutMs, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new DeadLetterException("interrupted while sending to " + topic, e);
        } catch (ExecutionException | TimeoutException e) {
            throw new DeadLetterException("could not send to " + topic, e);
        }
    }

    private ProducerRecord<byte[], byte[]> toRecord(DeadLetter letter) {
        ConsumerRecord<byte[], byte[]> source = letter.source();
        RecordHeaders headers = new RecordHeaders(source.headers().toArray());
        Throwable error = letter.error();
        String message = String.valueOf(error.getMessage());
        header(headers, "dlq.error.class", error.getClass().getName());
        header(headers, "dlq.error.message",
                message.length() > MESSAGE_LENGTH_MAX ? message.substring(0, MESSAGE_LENGTH_MAX) : message);
        header(headers, "dlq.source.topic", source.topic());
        header(headers, "dlq.source.partition", Integer.toString(source.partition()));
        header(headers, "dlq.source.offset", Long.toString(source.offset()));
        header(headers, "dlq.source.component", COMPONENT);
        return new ProducerRecord<>(topic, null, source.timestamp(), source.key(), source.value(), headers);
    }

    private static void header(RecordHeaders headers, String name, String value) {
        headers.add(name, value.getBytes(StandardCharsets.UTF_8));
    }

    private static Map<String, Object> producerConfig(MysqlSinkConfig config) {
        return config.kafkaClientProperties().addTo(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, config.bootstrapServers(),
                ProducerConfig.CLIENT_ID_CONFIG, config.groupId() + "-dlq",
                ProducerConfig.ACKS_CONFIG, "all",
                ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true,
                ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, 5,
                ProducerConfig.LINGER_MS_CONFIG, 0,
                ProducerConfig.MAX_BLOCK_MS_CONFIG, config.dlqDeliveryTimeoutMs(),
                ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, (int) Math.min(config.dlqDeliveryTimeoutMs(), 30_000),
                ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, (int) config.dlqDeliveryTimeoutMs()));
    }

    @Override
    public void close() {
        producer.close(Duration.ofMillis(sendTimeoutMs));
    }

    /** The dead-letter topic did not acknowledge; the batch is retried like a database outage. */
    static final class DeadLetterException extends Exception {
        DeadLetterException(String message, Throwable cause) {
            super(message, cause);
        }
    }
}

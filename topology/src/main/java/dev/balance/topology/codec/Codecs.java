package dev.balance.topology.codec;

import dev.balance.topology.model.Balance;
import dev.balance.topology.model.BalanceEvent;
import dev.balance.topology.model.ChangeCommand;
import dev.balance.topology.model.ChangeType;
import dev.balance.topology.model.Leg;
import dev.balance.topology.model.Result;

/**
 * The binary formats of commands, events and balances. Each starts with a format byte so that
 * stored state and topics written by this release stay readable by later ones: a reader accepts
 * every format it knows and refuses the rest as malformed, never guessing.
 */
public final class Codecs {

    public static final int COMMAND_FORMAT_V1 = 1;
    /** V1 and the leg (one byte) and debit version (varlong) of two-account changes. */
    public static final int COMMAND_FORMAT_V2 = 2;
    public static final int EVENT_FORMAT_V1 = 1;
    /** V1 and the leg (one byte). */
    public static final int EVENT_FORMAT_V2 = 2;
    public static final int BALANCE_FORMAT_V1 = 1;

    private Codecs() {
    }

    public static byte[] encodeCommand(ChangeCommand command) {
        // One-account changes keep format 1, which nodes and sinks of the release before transfers read:
        // during a rolling upgrade they keep working; only the legs of transfers need format 2.
        boolean legs = command.leg() != Leg.NONE || command.debitVersion() != 0;
        WireWriter out = new WireWriter(64);
        out.writeByte(legs ? COMMAND_FORMAT_V2 : COMMAND_FORMAT_V1);
        out.writeString(command.transactionId());
        out.writeFixedLong(command.accountId());
        out.writeNullableString(command.userId());
        out.writeString(command.currency());
        out.writeByte(command.type().code());
        out.writeDecimal(command.amount());
        out.writeFixedLong(command.toAccountId());
        out.writeNullableString(command.description());
        out.writeNullableString(command.metadata());
        if (legs) {
            out.writeByte(command.leg().code());
            out.writeVarLong(command.debitVersion());
        }
        return out.toByteArray();
    }

    public static ChangeCommand decodeCommand(byte[] bytes) {
        WireReader in = new WireReader(bytes);
        int format = in.readByte();
        if (format != COMMAND_FORMAT_V1 && format != COMMAND_FORMAT_V2) {
            throw new MalformedRecordException("unknown command format " + format);
        }
        String transactionId = in.readString();
        long accountId = in.readFixedLong();
        String userId = in.readNullableString();
        String currency = in.readString();
        ChangeType type = changeType(in.readByte());
        var amount = in.readDecimal();
        long toAccountId = in.readFixedLong();
        String description = in.readNullableString();
        String metadata = in.readNullableString();
        Leg leg = Leg.NONE;
        long debitVersion = 0L;
        if (format == COMMAND_FORMAT_V2) {
            leg = leg(in.readByte());
            debitVersion = in.readVarLong();
        }
        in.expectEnd();
        return new ChangeCommand(transactionId, accountId, userId, currency, type, amount, toAccountId,
                description, metadata, leg, debitVersion);
    }

    public static byte[] encodeEvent(BalanceEvent event) {
        boolean leg = event.leg() != Leg.NONE;
        WireWriter out = new WireWriter(96);
        out.writeByte(leg ? EVENT_FORMAT_V2 : EVENT_FORMAT_V1);
        out.writeString(event.transactionId());
        out.writeFixedLong(event.accountId());
        out.writeString(event.currency());
        out.writeByte(event.type().code());
        out.writeDecimal(event.amount());
        out.writeFixedLong(event.toAccountId());
        out.writeByte(event.result().code());
        out.writeBoolean(event.replay());
        out.writeDecimal(event.availableBefore());
        out.writeDecimal(event.frozenBefore());
        out.writeDecimal(event.availableAfter());
        out.writeDecimal(event.frozenAfter());
        out.writeVarLong(event.version());
        out.writeSignedVarLong(event.timestampMs());
        out.writeNullableString(event.userId());
        out.writeNullableString(event.description());
        out.writeNullableString(event.detail());
        if (leg) {
            out.writeByte(event.leg().code());
        }
        return out.toByteArray();
    }

    public static BalanceEvent decodeEvent(byte[] bytes) {
        WireReader in = new WireReader(bytes);
        int format = in.readByte();
        if (format != EVENT_FORMAT_V1 && format != EVENT_FORMAT_V2) {
            throw new MalformedRecordException("unknown event format " + format);
        }
        String transactionId = in.readString();
        long accountId = in.readFixedLong();
        String currency = in.readString();
        ChangeType type = changeType(in.readByte());
        var amount = in.readDecimal();
        long toAccountId = in.readFixedLong();
        int resultCode = in.readByte();
        Result result = Result.ofCode(resultCode);
        if (result == null) {
            throw new MalformedRecordException("unknown result code " + resultCode);
        }
        boolean replay = in.readBoolean();
        var availableBefore = in.readDecimal();
        var frozenBefore = in.readDecimal();
        var availableAfter = in.readDecimal();
        var frozenAfter = in.readDecimal();
        long version = in.readVarLong();
        long timestampMs = in.readSignedVarLong();
        String userId = in.readNullableString();
        String description = in.readNullableString();
        String detail = in.readNullableString();
        Leg leg = format == EVENT_FORMAT_V2 ? leg(in.readByte()) : Leg.NONE;
        in.expectEnd();
        return new BalanceEvent(transactionId, accountId, currency, type, amount, toAccountId, result, replay,
                availableBefore, frozenBefore, availableAfter, frozenAfter, version, timestampMs, userId,
                description, detail, leg);
    }

    public static byte[] encodeBalance(Balance balance) {
        WireWriter out = new WireWriter(32);
        out.writeByte(BALANCE_FORMAT_V1);
        out.writeDecimal(balance.available());
        out.writeDecimal(balance.frozen());
        out.writeVarLong(balance.version());
        out.writeSignedVarLong(balance.updatedAtMs());
        return out.toByteArray();
    }

    public static Balance decodeBalance(byte[] bytes) {
        WireReader in = new WireReader(bytes);
        int format = in.readByte();
        if (format != BALANCE_FORMAT_V1) {
            throw new MalformedRecordException("unknown balance format " + format);
        }
        var available = in.readDecimal();
        var frozen = in.readDecimal();
        long version = in.readVarLong();
        long updatedAtMs = in.readSignedVarLong();
        in.expectEnd();
        if (available.signum() < 0 || frozen.signum() < 0 || version < 0) {
            throw new MalformedRecordException("balance with a negative field: available=" + available
                    + " frozen=" + frozen + " version=" + version);
        }
        return new Balance(available, frozen, version, updatedAtMs);
    }

    private static Leg leg(int code) {
        Leg leg = Leg.ofCode(code);
        if (leg == null) {
            throw new MalformedRecordException("unknown leg " + code);
        }
        return leg;
    }

    private static ChangeType changeType(int code) {
        ChangeType type = ChangeType.ofCode(code);
        if (type == null) {
            throw new MalformedRecordException("unknown change type " + code);
        }
        return type;
    }
}

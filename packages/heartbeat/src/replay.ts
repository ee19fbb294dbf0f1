/**
 * Replay protection (SPEC section 8): a captured packet sent again must not bring a dead member
 * back to life or repeat an accusation. Each sender numbers its packets within an epoch (one run of
 * its process); a receiver accepts a given (epoch, sequence) once. Packets may arrive out of order,
 * so a sliding window of the last WINDOW sequence numbers is kept, as IPsec and DTLS do.
 */
export const REPLAY_WINDOW = 256;

interface SenderHistory {
  epoch: number;
  highest: number;
  /** Sequence numbers highest-WINDOW+1 .. highest that were seen. */
  seen: Set<number>;
}

export class ReplayGuard {
  private readonly senders = new Map<string, SenderHistory>();

  /** true when the packet is new (and is now remembered), false when it is a replay or too old. */
  accept(sender: string, epoch: number, seq: number): boolean {
    const history = this.senders.get(sender);
    // A later epoch is a restarted process: its numbering starts again.
    if (!history || epoch > history.epoch) {
      this.senders.set(sender, { epoch, highest: seq, seen: new Set([seq]) });
      return true;
    }
    if (epoch < history.epoch) return false;
    if (seq > history.highest) {
      history.highest = seq;
      history.seen.add(seq);
      if (history.seen.size > REPLAY_WINDOW) {
        for (const old of history.seen) if (old <= seq - REPLAY_WINDOW) history.seen.delete(old);
      }
      return true;
    }
    if (seq <= history.highest - REPLAY_WINDOW || history.seen.has(seq)) return false;
    history.seen.add(seq);
    return true;
  }
}

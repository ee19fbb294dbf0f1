/**
 * Replay protection (docs/contract.md#heartbeats-and-restarts): a captured packet sent again must not bring a dead member
 * back to life or repeat an accusation. Each sender numbers its packets within an epoch (one run of
 * its process); a receiver accepts a given (epoch, sequence) once. Packets may arrive out of order,
 * so a sliding window of the last WINDOW sequence numbers is kept, as IPsec and DTLS do.
 *
 * The window lives in memory: a receiver that has just started has none, so this guard alone would
 * take a capture of any sender as new. liveness-challenge.ts closes that gap; `refuseBefore` is
 * its half here.
 */
export const REPLAY_WINDOW = 256;

interface SenderHistory {
  epoch: number;
  highest: number;
  /** Sequence numbers highest-WINDOW+1 .. highest that were seen. */
  seen: Set<number>;
  /** Lower sequence numbers are refused: sent before the run proved it is live (refuseBefore). */
  floor: number;
}

export class ReplayGuard {
  private readonly senders = new Map<string, SenderHistory>();

  /** true when the packet is new (and is now remembered), false when it is a replay or too old. */
  accept(sender: string, epoch: number, seq: number): boolean {
    const history = this.senders.get(sender);
    // A later epoch is a restarted process: its numbering starts again.
    if (!history || epoch > history.epoch) {
      this.senders.set(sender, { epoch, highest: seq, seen: new Set([seq]), floor: 0 });
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
    if (seq < history.floor || seq <= history.highest - REPLAY_WINDOW || history.seen.has(seq)) return false;
    history.seen.add(seq);
    return true;
  }

  /**
   * From now on, refuses this run's packets numbered below `seq`: they were sent before the run
   * answered a challenge, so any of them may be a capture replayed (liveness-challenge.ts).
   */
  refuseBefore(sender: string, epoch: number, seq: number): void {
    const history = this.senders.get(sender);
    if (history?.epoch === epoch) history.floor = Math.max(history.floor, seq);
  }
}

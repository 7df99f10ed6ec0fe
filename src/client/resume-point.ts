// Where a client is in one room's stream, and what that makes of each
// message: the resume policy both clients follow. Imports nothing, so the web
// client bundles it as the terminal client runs it.

/**
 * The last id the stream delivered in a room (never one from History: a
 * message still on its way must not be skipped) and the epoch that id belongs
 * to. A join resumes from it; anything at or below it is already delivered.
 */
export class ResumePoint {
  /** Undefined until a join says where the room's head is (or a start names one). */
  lastId: number | undefined;
  epoch: string;

  constructor(
    start: { readonly resumeAfterId?: number | undefined; readonly epoch?: string } = {},
  ) {
    this.lastId = start.resumeAfterId;
    this.epoch = start.epoch ?? "";
  }

  /** Where a join starts: after the last id (of its epoch), else live at the head. */
  get start(): { resumeAfterId: number | undefined; epoch: string } {
    return { resumeAfterId: this.lastId, epoch: this.epoch };
  }

  /**
   * A message from the stream: false when it is at or below the last id (it
   * was delivered already; drop it), else it is the new resume point.
   */
  deliver(id: number): boolean {
    if (this.lastId !== undefined && id <= this.lastId) return false;
    this.lastId = id;
    return true;
  }

  /** The stream vouches that everything up to `id` was delivered (caught up, or a gap). */
  advance(id: number): void {
    if (this.lastId === undefined || id > this.lastId) this.lastId = id;
  }

  /**
   * The server answered a join. Resumed: the missed messages follow, and the
   * resume point stays ours; live or reset: delivery starts after its head.
   */
  joined(epoch: string, resumed: boolean, headId: number): void {
    this.epoch = epoch;
    if (!resumed) this.lastId = headId;
  }
}

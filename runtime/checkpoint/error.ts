/** A checkpoint that cannot be read, written or used; the message is one line naming the file. */
export class CheckpointError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CheckpointError";
  }
}

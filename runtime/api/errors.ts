// The error the programmatic API throws when it is called wrongly: an input
// that does not fit its entry point, an unknown parameter, an entry compiled
// without its gradient. One line naming what was given and what was expected.

export class ArgumentError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ArgumentError";
  }
}

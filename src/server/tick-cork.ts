/** What can hold writes back and let them go together: a socket or an HTTP/2 stream. */
interface Corkable {
  cork(): void;
  uncork(): void;
}

/**
 * Corks `stream` at the first write of a tick and uncorks it once the tick is
 * over, so the messages a tick writes leave in one write (one writev, one
 * HTTP/2 DATA frame) rather than one each. `flush` lets them go now, before a
 * last write that must follow them; the tick's own uncork is then nothing.
 */
export function tickCork(stream: Corkable): { cork(): void; flush(): void } {
  let corked = false;
  const flush = () => {
    if (!corked) return;
    corked = false;
    stream.uncork();
  };
  return {
    cork() {
      if (corked) return;
      corked = true;
      stream.cork();
      process.nextTick(flush);
    },
    flush,
  };
}

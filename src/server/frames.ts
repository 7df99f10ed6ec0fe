import type { Encoder } from "../core/envelope.ts";

/** gRPC's frame header: a compression flag and a 4-byte length. */
const PREFIX_BYTES = 5;
const framedEncoders = new WeakMap<Encoder, Encoder>();

/**
 * `encoder`'s bytes as gRPC frames (the 5-byte length prefix first). One
 * function per wire shape, so an Envelope encodes and frames a message once
 * for every stream it goes to; a transport that wants the bare message
 * (grpc-js's own write, Connect) takes `unframed` of the same bytes.
 */
export function framed(encoder: Encoder): Encoder {
  let framedEncoder = framedEncoders.get(encoder);
  if (!framedEncoder) {
    framedEncoder = (payload) => {
      const bytes = encoder(payload);
      if (bytes === null) return null;
      const frame = Buffer.allocUnsafe(bytes.byteLength + PREFIX_BYTES);
      frame[0] = 0;
      frame.writeUInt32BE(bytes.byteLength, 1);
      frame.set(bytes, PREFIX_BYTES);
      return frame;
    };
    framedEncoders.set(encoder, framedEncoder);
  }
  return framedEncoder;
}

/** The message inside a frame `framed` made, without a copy. */
export function unframed(frame: Uint8Array): Uint8Array {
  return frame.subarray(PREFIX_BYTES);
}

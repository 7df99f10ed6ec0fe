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
      return bytes === null ? null : frame(bytes);
    };
    framedEncoders.set(encoder, framedEncoder);
  }
  return framedEncoder;
}

/** One message's bytes as a gRPC frame: what a stream's sink writes. */
export function frame(bytes: Uint8Array): Uint8Array {
  const framedBytes = Buffer.allocUnsafe(bytes.byteLength + PREFIX_BYTES);
  framedBytes[0] = 0;
  framedBytes.writeUInt32BE(bytes.byteLength, 1);
  framedBytes.set(bytes, PREFIX_BYTES);
  return framedBytes;
}

/** The message inside a frame `framed` made, without a copy. */
export function unframed(frame: Uint8Array): Uint8Array {
  return frame.subarray(PREFIX_BYTES);
}

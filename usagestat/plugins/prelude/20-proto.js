// ctx.proto: minimal protobuf wire-format reading and writing, for providers
// that store or send protobuf (Antigravity state, Cursor/Windsurf Connect-RPC).
// Bytes are plain arrays of numbers (see ctx.bytes for hex/base64/UTF-8).
__usagestat_extend("proto", function (ctx) {
  "use strict";
  function readVarint(bytes, pos) {
    var result = 0;
    var scale = 1;
    var i = pos;
    while (i < bytes.length) {
      var b = bytes[i++];
      result += (b & 0x7f) * scale;
      if ((b & 0x80) === 0) return { value: result, pos: i };
      scale *= 128;
      if (scale > Math.pow(2, 63)) break;
    }
    throw new Error("truncated or invalid varint at byte " + pos);
  }

  // Decode one message level: [{field, wire, value}] where value is a number
  // (varint, fixed32/64 as unsigned numbers) or a byte array (length-delimited).
  function decode(bytes) {
    var out = [];
    var pos = 0;
    while (pos < bytes.length) {
      var key = readVarint(bytes, pos);
      pos = key.pos;
      var field = Math.floor(key.value / 8);
      var wire = key.value % 8;
      if (wire === 0) {
        var v = readVarint(bytes, pos);
        out.push({ field: field, wire: 0, value: v.value });
        pos = v.pos;
      } else if (wire === 2) {
        var len = readVarint(bytes, pos);
        var end = len.pos + len.value;
        if (end > bytes.length) throw new Error("length-delimited field " + field + " runs past the end");
        out.push({ field: field, wire: 2, value: bytes.slice(len.pos, end) });
        pos = end;
      } else if (wire === 1 || wire === 5) {
        var size = wire === 1 ? 8 : 4;
        if (pos + size > bytes.length) throw new Error("fixed field " + field + " runs past the end");
        var n = 0;
        for (var k = size - 1; k >= 0; k--) n = n * 256 + bytes[pos + k];
        out.push({ field: field, wire: wire, value: n, raw: bytes.slice(pos, pos + size) });
        pos += size;
      } else {
        throw new Error("unsupported wire type " + wire + " for field " + field);
      }
    }
    return out;
  }

  function first(fields, number) {
    for (var i = 0; i < fields.length; i++) if (fields[i].field === number) return fields[i].value;
    return undefined;
  }

  function all(fields, number) {
    var out = [];
    for (var i = 0; i < fields.length; i++) if (fields[i].field === number) out.push(fields[i].value);
    return out;
  }

  function writeVarint(out, value) {
    var v = Number(value);
    while (v >= 128) {
      out.push((v % 128) | 0x80);
      v = Math.floor(v / 128);
    }
    out.push(v);
  }

  // encode([{field, value}]): numbers become varints, strings UTF-8 fields,
  // arrays raw length-delimited bytes.
  function encode(fields) {
    var out = [];
    for (var i = 0; i < fields.length; i++) {
      var f = fields[i];
      if (typeof f.value === "number" || typeof f.value === "boolean") {
        writeVarint(out, f.field * 8);
        writeVarint(out, Number(f.value));
      } else {
        var data = typeof f.value === "string" ? ctx.bytes.fromUtf8(f.value) : f.value;
        writeVarint(out, f.field * 8 + 2);
        writeVarint(out, data.length);
        for (var j = 0; j < data.length; j++) out.push(data[j]);
      }
    }
    return out;
  }

  return Object.freeze({
    readVarint: readVarint,
    decode: decode,
    first: first,
    all: all,
    encode: encode,
    string: function (value) { return value === undefined ? undefined : ctx.bytes.toUtf8(value); },
  });
});

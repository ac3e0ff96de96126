"""Pure-Python AES (FIPS-197) with CBC and GCM modes, standard library only.

Why this exists: usagestat must read Chromium cookie stores (AES-128-CBC),
Factory CLI credential files (AES-256-GCM) and serve the plugin host's
``crypto.aesGcmDecrypt/aesGcmEncrypt`` without any third-party wheel. The
workloads are small (a few hundred cookies, a few KB of JSON), so a table-driven
implementation in Python is fast enough while keeping installs dependency-free.

Design notes:

* The block cipher uses the classic 32-bit "T-table" formulation (four 256-entry
  tables per direction), so a round is 16 table lookups and XORs; nothing is
  computed bit by bit at run time. All tables are built once at import.
* Key schedules (and the per-key GHASH table) are cached in a small LRU keyed by
  the raw key, so repeated calls with the same key pay the setup cost once.
* GHASH uses Shoup's 8-bit table method: sixteen 256-entry tables of
  ``byte * x^(8i) * H`` so one block multiplication is 16 lookups and XORs.
* Table lookups are data dependent, so this is not constant-time against an
  attacker sharing the CPU cache. That is acceptable for a local tool decrypting
  the user's own data; the GCM tag comparison itself is constant-time.
"""

from __future__ import annotations

import hmac
import struct
from functools import lru_cache

__all__ = [
    "AES",
    "DecryptError",
    "aes_cbc_decrypt",
    "aes_cbc_encrypt",
    "aes_decrypt_block",
    "aes_encrypt_block",
    "aes_gcm_decrypt",
    "aes_gcm_encrypt",
]

BLOCK_SIZE = 16
GCM_TAG_SIZE = 16
# SP 800-38D §5.2.1.2 tag lengths for general use (96..128 bits). The 32/64-bit
# lengths need extra usage limits, so they are refused rather than silently weak.
_MIN_GCM_TAG = 12


class DecryptError(Exception):
    """Ciphertext could not be decrypted: wrong key, corrupt data or forged tag.

    Deliberately carries no detail about *why* (padding vs. tag vs. length), so
    callers can surface it without leaking an oracle or any secret material.
    """


# ---------------------------------------------------------------------------
# Table construction (runs once at import).
# ---------------------------------------------------------------------------


def _build_tables() -> tuple[list[int], ...]:
    # Exp/log tables over GF(2^8) with generator 3, used only here.
    exp = [0] * 512
    log = [0] * 256
    x = 1
    for i in range(255):
        exp[i] = x
        log[x] = i
        # x *= 3  ==  x ^ xtime(x)
        x ^= ((x << 1) ^ (0x1B if x & 0x80 else 0)) & 0xFF
    for i in range(255, 512):
        exp[i] = exp[i - 255]

    def mul(a: int, b: int) -> int:
        if a == 0 or b == 0:
            return 0
        return exp[log[a] + log[b]]

    sbox = [0] * 256
    inv_sbox = [0] * 256
    for a in range(256):
        inv = 0 if a == 0 else exp[255 - log[a]]
        s = inv
        for shift in range(1, 5):
            s ^= ((inv << shift) | (inv >> (8 - shift))) & 0xFF
        s ^= 0x63
        sbox[a] = s
        inv_sbox[s] = a

    te0, te1, te2, te3 = ([0] * 256 for _ in range(4))
    td0, td1, td2, td3 = ([0] * 256 for _ in range(4))
    for a in range(256):
        s = sbox[a]
        w = (mul(s, 2) << 24) | (s << 16) | (s << 8) | mul(s, 3)
        te0[a] = w
        te1[a] = ((w >> 8) | (w << 24)) & 0xFFFFFFFF
        te2[a] = ((w >> 16) | (w << 16)) & 0xFFFFFFFF
        te3[a] = ((w >> 24) | (w << 8)) & 0xFFFFFFFF
        v = inv_sbox[a]
        w = (mul(v, 14) << 24) | (mul(v, 9) << 16) | (mul(v, 13) << 8) | mul(v, 11)
        td0[a] = w
        td1[a] = ((w >> 8) | (w << 24)) & 0xFFFFFFFF
        td2[a] = ((w >> 16) | (w << 16)) & 0xFFFFFFFF
        td3[a] = ((w >> 24) | (w << 8)) & 0xFFFFFFFF
    return sbox, inv_sbox, te0, te1, te2, te3, td0, td1, td2, td3


_SBOX, _INV_SBOX, _TE0, _TE1, _TE2, _TE3, _TD0, _TD1, _TD2, _TD3 = _build_tables()
# Final-round tables: the S-box value pre-shifted into each byte lane.
_S24 = [s << 24 for s in _SBOX]
_S16 = [s << 16 for s in _SBOX]
_S8 = [s << 8 for s in _SBOX]
_IS24 = [s << 24 for s in _INV_SBOX]
_IS16 = [s << 16 for s in _INV_SBOX]
_IS8 = [s << 8 for s in _INV_SBOX]
_RCON = (0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x80, 0x1B, 0x36)
_ROUNDS = {16: 10, 24: 12, 32: 14}
_GCM_R = 0xE1 << 120  # x^128 + x^7 + x^2 + x + 1 in GCM's reflected bit order.


# ---------------------------------------------------------------------------
# Block cipher.
# ---------------------------------------------------------------------------


class AES:
    """AES block cipher for one key; expands the key schedule once.

    Round keys never change after construction and the lazily built GHASH
    table is idempotent, so one instance can be shared between threads. Prefer
    the module functions, which cache instances per key.
    """

    __slots__ = (
        "_dk_first",
        "_dk_last",
        "_dk_mid",
        "_ek_first",
        "_ek_last",
        "_ek_mid",
        "_ghash_table",
    )

    def __init__(self, key: bytes) -> None:
        key = bytes(key)
        rounds = _ROUNDS.get(len(key))
        if rounds is None:
            raise ValueError("AES key must be 16, 24 or 32 bytes")
        ek = _expand_key(key, rounds)
        dk = _decryption_key(ek, rounds)
        # Round keys grouped per round so the hot loops unpack tuples, not index lists.
        ek4 = [tuple(ek[i : i + 4]) for i in range(0, len(ek), 4)]
        dk4 = [tuple(dk[i : i + 4]) for i in range(0, len(dk), 4)]
        self._ek_first, self._ek_mid, self._ek_last = ek4[0], tuple(ek4[1:-1]), ek4[-1]
        self._dk_first, self._dk_mid, self._dk_last = dk4[0], tuple(dk4[1:-1]), dk4[-1]
        self._ghash_table: list[list[int]] | None = None

    def encrypt_block(self, block: bytes) -> bytes:
        """Encrypt exactly one 16-byte block."""
        if len(block) != BLOCK_SIZE:
            raise ValueError("AES block must be 16 bytes")
        return struct.pack(">4I", *self._encrypt_words(*struct.unpack(">4I", block)))

    def decrypt_block(self, block: bytes) -> bytes:
        """Decrypt exactly one 16-byte block."""
        if len(block) != BLOCK_SIZE:
            raise ValueError("AES block must be 16 bytes")
        return struct.pack(">4I", *self._decrypt_words(*struct.unpack(">4I", block)))

    def _encrypt_words(self, s0: int, s1: int, s2: int, s3: int) -> tuple[int, int, int, int]:
        te0, te1, te2, te3 = _TE0, _TE1, _TE2, _TE3
        k0, k1, k2, k3 = self._ek_first
        s0 ^= k0
        s1 ^= k1
        s2 ^= k2
        s3 ^= k3
        for k0, k1, k2, k3 in self._ek_mid:
            t0 = te0[s0 >> 24] ^ te1[(s1 >> 16) & 255] ^ te2[(s2 >> 8) & 255] ^ te3[s3 & 255] ^ k0
            t1 = te0[s1 >> 24] ^ te1[(s2 >> 16) & 255] ^ te2[(s3 >> 8) & 255] ^ te3[s0 & 255] ^ k1
            t2 = te0[s2 >> 24] ^ te1[(s3 >> 16) & 255] ^ te2[(s0 >> 8) & 255] ^ te3[s1 & 255] ^ k2
            s3 = te0[s3 >> 24] ^ te1[(s0 >> 16) & 255] ^ te2[(s1 >> 8) & 255] ^ te3[s2 & 255] ^ k3
            s0, s1, s2 = t0, t1, t2
        s24, s16, s8, sb = _S24, _S16, _S8, _SBOX
        k0, k1, k2, k3 = self._ek_last
        return (
            (s24[s0 >> 24] | s16[(s1 >> 16) & 255] | s8[(s2 >> 8) & 255] | sb[s3 & 255]) ^ k0,
            (s24[s1 >> 24] | s16[(s2 >> 16) & 255] | s8[(s3 >> 8) & 255] | sb[s0 & 255]) ^ k1,
            (s24[s2 >> 24] | s16[(s3 >> 16) & 255] | s8[(s0 >> 8) & 255] | sb[s1 & 255]) ^ k2,
            (s24[s3 >> 24] | s16[(s0 >> 16) & 255] | s8[(s1 >> 8) & 255] | sb[s2 & 255]) ^ k3,
        )

    def _decrypt_words(self, s0: int, s1: int, s2: int, s3: int) -> tuple[int, int, int, int]:
        td0, td1, td2, td3 = _TD0, _TD1, _TD2, _TD3
        k0, k1, k2, k3 = self._dk_first
        s0 ^= k0
        s1 ^= k1
        s2 ^= k2
        s3 ^= k3
        for k0, k1, k2, k3 in self._dk_mid:
            t0 = td0[s0 >> 24] ^ td1[(s3 >> 16) & 255] ^ td2[(s2 >> 8) & 255] ^ td3[s1 & 255] ^ k0
            t1 = td0[s1 >> 24] ^ td1[(s0 >> 16) & 255] ^ td2[(s3 >> 8) & 255] ^ td3[s2 & 255] ^ k1
            t2 = td0[s2 >> 24] ^ td1[(s1 >> 16) & 255] ^ td2[(s0 >> 8) & 255] ^ td3[s3 & 255] ^ k2
            s3 = td0[s3 >> 24] ^ td1[(s2 >> 16) & 255] ^ td2[(s1 >> 8) & 255] ^ td3[s0 & 255] ^ k3
            s0, s1, s2 = t0, t1, t2
        s24, s16, s8, sb = _IS24, _IS16, _IS8, _INV_SBOX
        k0, k1, k2, k3 = self._dk_last
        return (
            (s24[s0 >> 24] | s16[(s3 >> 16) & 255] | s8[(s2 >> 8) & 255] | sb[s1 & 255]) ^ k0,
            (s24[s1 >> 24] | s16[(s0 >> 16) & 255] | s8[(s3 >> 8) & 255] | sb[s2 & 255]) ^ k1,
            (s24[s2 >> 24] | s16[(s1 >> 16) & 255] | s8[(s0 >> 8) & 255] | sb[s3 & 255]) ^ k2,
            (s24[s3 >> 24] | s16[(s2 >> 16) & 255] | s8[(s1 >> 8) & 255] | sb[s0 & 255]) ^ k3,
        )

    def _ghash_tables(self) -> list[list[int]]:
        table = self._ghash_table
        if table is None:
            h = int.from_bytes(self.encrypt_block(bytes(BLOCK_SIZE)), "big")
            table = _build_ghash_table(h)
            self._ghash_table = table  # benign race: both threads build the same table
        return table


def _expand_key(key: bytes, rounds: int) -> list[int]:
    nk = len(key) // 4
    w = list(struct.unpack(f">{nk}I", key))
    sb = _SBOX
    for i in range(nk, 4 * (rounds + 1)):
        t = w[i - 1]
        if i % nk == 0:
            t = (
                (sb[(t >> 16) & 255] << 24)
                | (sb[(t >> 8) & 255] << 16)
                | (sb[t & 255] << 8)
                | sb[t >> 24]
            ) ^ (_RCON[i // nk - 1] << 24)
        elif nk > 6 and i % nk == 4:
            t = (
                (sb[t >> 24] << 24)
                | (sb[(t >> 16) & 255] << 16)
                | (sb[(t >> 8) & 255] << 8)
                | sb[t & 255]
            )
        w.append(w[i - nk] ^ t)
    return w


def _decryption_key(ek: list[int], rounds: int) -> list[int]:
    """Round keys for the FIPS-197 §5.3.5 equivalent inverse cipher."""
    dk: list[int] = []
    sb = _SBOX
    for r in range(rounds, -1, -1):
        words = ek[4 * r : 4 * r + 4]
        if 0 < r < rounds:
            # InvMixColumns via the Td tables (Td[S[x]] drops the inverse S-box).
            words = [
                _TD0[sb[w >> 24]]
                ^ _TD1[sb[(w >> 16) & 255]]
                ^ _TD2[sb[(w >> 8) & 255]]
                ^ _TD3[sb[w & 255]]
                for w in words
            ]
        dk.extend(words)
    return dk


@lru_cache(maxsize=32)
def _cipher(key: bytes) -> AES:
    # Keyed by the raw key bytes; a bounded LRU keeps the few keys in use hot.
    return AES(key)


def _get_cipher(key: bytes) -> AES:
    if not isinstance(key, bytes):
        key = bytes(key)
    return _cipher(key)


def aes_encrypt_block(key: bytes, block: bytes) -> bytes:
    """Encrypt one 16-byte block with AES-128/192/256 (key schedule cached)."""
    return _get_cipher(key).encrypt_block(block)


def aes_decrypt_block(key: bytes, block: bytes) -> bytes:
    """Decrypt one 16-byte block with AES-128/192/256 (key schedule cached)."""
    return _get_cipher(key).decrypt_block(block)


# ---------------------------------------------------------------------------
# CBC with PKCS#7 padding.
# ---------------------------------------------------------------------------


def aes_cbc_encrypt(key: bytes, iv: bytes, plaintext: bytes, *, pad: bool = True) -> bytes:
    """AES-CBC encrypt; PKCS#7-pads unless ``pad=False`` (then input must be block aligned)."""
    if len(iv) != BLOCK_SIZE:
        raise ValueError("CBC IV must be 16 bytes")
    data = bytes(plaintext)
    if pad:
        n = BLOCK_SIZE - len(data) % BLOCK_SIZE
        data += bytes((n,)) * n
    elif len(data) % BLOCK_SIZE:
        raise ValueError("plaintext length must be a multiple of 16 when pad=False")
    if not data:
        return b""
    enc = _get_cipher(key)._encrypt_words
    words = struct.unpack(f">{len(data) // 4}I", data)
    p0, p1, p2, p3 = struct.unpack(">4I", iv)
    out: list[int] = []
    for i in range(0, len(words), 4):
        p0, p1, p2, p3 = enc(words[i] ^ p0, words[i + 1] ^ p1, words[i + 2] ^ p2, words[i + 3] ^ p3)
        out += (p0, p1, p2, p3)
    return struct.pack(f">{len(out)}I", *out)


def aes_cbc_decrypt(key: bytes, iv: bytes, ciphertext: bytes, *, unpad: bool = True) -> bytes:
    """AES-CBC decrypt and (by default) strip PKCS#7 padding.

    Raises DecryptError when the ciphertext is not block aligned or the padding
    is invalid, which in practice means a wrong key (e.g. a stale Keychain
    password for a Chromium profile) rather than a programming error.
    """
    if len(iv) != BLOCK_SIZE:
        raise ValueError("CBC IV must be 16 bytes")
    if len(ciphertext) % BLOCK_SIZE or (unpad and not ciphertext):
        raise DecryptError("decrypt failed")
    if not ciphertext:
        return b""
    dec = _get_cipher(key)._decrypt_words
    words = struct.unpack(f">{len(ciphertext) // 4}I", ciphertext)
    p0, p1, p2, p3 = struct.unpack(">4I", iv)
    out: list[int] = []
    for i in range(0, len(words), 4):
        c0, c1, c2, c3 = words[i], words[i + 1], words[i + 2], words[i + 3]
        d0, d1, d2, d3 = dec(c0, c1, c2, c3)
        out += (d0 ^ p0, d1 ^ p1, d2 ^ p2, d3 ^ p3)
        p0, p1, p2, p3 = c0, c1, c2, c3
    plain = struct.pack(f">{len(out)}I", *out)
    if not unpad:
        return plain
    n = plain[-1]
    if not 1 <= n <= BLOCK_SIZE:
        raise DecryptError("decrypt failed")
    bad = 0
    for b in plain[-n:]:  # check every padding byte, no early exit
        bad |= b ^ n
    if bad:
        raise DecryptError("decrypt failed")
    return plain[:-n]


# ---------------------------------------------------------------------------
# GCM (NIST SP 800-38D).
# ---------------------------------------------------------------------------


def _build_ghash_table(h: int) -> list[list[int]]:
    """Shoup 8-bit tables: ``table[i][b]`` is (byte ``b`` at position ``i``) * H."""
    # hx[k] = H * x^k; in GCM's bit order multiplying by x is a right shift.
    hx = []
    v = h
    for _ in range(128):
        hx.append(v)
        v = (v >> 1) ^ _GCM_R if v & 1 else v >> 1
    tables = []
    for i in range(16):
        t = [0] * 256
        for j in range(8):
            t[0x80 >> j] = hx[8 * i + j]
        for b in range(1, 256):
            low = b & -b
            if b != low:
                t[b] = t[b ^ low] ^ t[low]
        tables.append(t)
    return tables


def _ghash(tables: list[list[int]], y: int, data: bytes) -> int:
    """Fold ``data`` (zero-padded to a block multiple) into GHASH state ``y``."""
    if len(data) % BLOCK_SIZE:
        data += bytes(BLOCK_SIZE - len(data) % BLOCK_SIZE)
    t0, t1, t2, t3, t4, t5, t6, t7, t8, t9, t10, t11, t12, t13, t14, t15 = tables
    from_bytes = int.from_bytes
    for i in range(0, len(data), BLOCK_SIZE):
        b = (y ^ from_bytes(data[i : i + BLOCK_SIZE], "big")).to_bytes(16, "big")
        y = (
            t0[b[0]]
            ^ t1[b[1]]
            ^ t2[b[2]]
            ^ t3[b[3]]
            ^ t4[b[4]]
            ^ t5[b[5]]
            ^ t6[b[6]]
            ^ t7[b[7]]
            ^ t8[b[8]]
            ^ t9[b[9]]
            ^ t10[b[10]]
            ^ t11[b[11]]
            ^ t12[b[12]]
            ^ t13[b[13]]
            ^ t14[b[14]]
            ^ t15[b[15]]
        )
    return y


def _gcm_j0(tables: list[list[int]], iv: bytes) -> int:
    if len(iv) == 12:
        return (int.from_bytes(iv, "big") << 32) | 1
    y = _ghash(tables, 0, iv)
    return _ghash(tables, y, struct.pack(">QQ", 0, len(iv) * 8))


def _gctr(cipher: AES, counter: int, data: bytes) -> bytes:
    """CTR keystream XOR starting at ``counter`` (inc32 semantics per SP 800-38D)."""
    if not data:
        return b""
    enc = cipher._encrypt_words
    w0 = (counter >> 96) & 0xFFFFFFFF
    w1 = (counter >> 64) & 0xFFFFFFFF
    w2 = (counter >> 32) & 0xFFFFFFFF
    ctr = counter & 0xFFFFFFFF
    nblocks = (len(data) + BLOCK_SIZE - 1) // BLOCK_SIZE
    stream: list[int] = []
    for _ in range(nblocks):
        stream += enc(w0, w1, w2, ctr)
        ctr = (ctr + 1) & 0xFFFFFFFF
    ks = struct.pack(f">{len(stream)}I", *stream)[: len(data)]
    n = len(data)
    return (int.from_bytes(data, "big") ^ int.from_bytes(ks, "big")).to_bytes(n, "big")


def _gcm_tag(cipher: AES, tables: list[list[int]], j0: int, aad: bytes, ct: bytes) -> bytes:
    s = _ghash(tables, 0, aad)
    s = _ghash(tables, s, ct)
    s = _ghash(tables, s, struct.pack(">QQ", len(aad) * 8, len(ct) * 8))
    return _gctr(cipher, j0, s.to_bytes(16, "big"))


def _check_gcm_lengths(iv: bytes, data: bytes, aad: bytes) -> None:
    if not iv:
        raise ValueError("GCM IV must not be empty")
    if len(data) > (1 << 36) - 32:
        raise ValueError("GCM message too long")
    if len(aad) >= 1 << 61:
        raise ValueError("GCM additional data too long")


def aes_gcm_encrypt(
    key: bytes, iv: bytes, plaintext: bytes, aad: bytes = b""
) -> tuple[bytes, bytes]:
    """AES-GCM encrypt; returns ``(ciphertext, 16-byte tag)``.

    A 12-byte IV is the standard (and fastest) choice; other non-empty lengths
    are hashed into the initial counter as SP 800-38D specifies. Never reuse an
    IV with the same key: GCM loses both confidentiality and integrity.
    """
    iv, plaintext, aad = bytes(iv), bytes(plaintext), bytes(aad)
    _check_gcm_lengths(iv, plaintext, aad)
    cipher = _get_cipher(key)
    tables = cipher._ghash_tables()
    j0 = _gcm_j0(tables, iv)
    inc = (j0 & ~0xFFFFFFFF) | ((j0 + 1) & 0xFFFFFFFF)
    ct = _gctr(cipher, inc, plaintext)
    return ct, _gcm_tag(cipher, tables, j0, aad, ct)


def aes_gcm_decrypt(
    key: bytes, iv: bytes, ciphertext: bytes, tag: bytes, aad: bytes = b""
) -> bytes:
    """AES-GCM decrypt, verifying the tag before returning any plaintext.

    ``tag`` may be truncated to 12..16 bytes (SP 800-38D's general-use lengths).
    Any authentication failure raises ``DecryptError("decrypt failed")``.
    """
    iv, ciphertext, tag, aad = bytes(iv), bytes(ciphertext), bytes(tag), bytes(aad)
    _check_gcm_lengths(iv, ciphertext, aad)
    if not _MIN_GCM_TAG <= len(tag) <= GCM_TAG_SIZE:
        raise DecryptError("decrypt failed")
    cipher = _get_cipher(key)
    tables = cipher._ghash_tables()
    j0 = _gcm_j0(tables, iv)
    expected = _gcm_tag(cipher, tables, j0, aad, ciphertext)[: len(tag)]
    if not hmac.compare_digest(expected, tag):
        raise DecryptError("decrypt failed")
    inc = (j0 & ~0xFFFFFFFF) | ((j0 + 1) & 0xFFFFFFFF)
    return _gctr(cipher, inc, ciphertext)

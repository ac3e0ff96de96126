"""RSASSA-PKCS1-v1_5 / SHA-256 signing from a PEM private key, standard library only.

Why this exists: Google service-account credentials authenticate by signing a
JWT (``RS256``) with the account's RSA key, and usagestat must not depend on a
third-party crypto wheel for that one operation. Signing is a single modular
exponentiation, which Python's ``pow`` handles quickly for 2048-bit keys.

Only what that needs is implemented: a small DER reader, PKCS#1 and PKCS#8 PEM
loading (unencrypted), CRT signing with blinding and a self-check, and
verification. Error messages never contain key material, so they are safe to
log or show to the user.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass, field
from math import gcd

__all__ = [
    "RSAKeyError",
    "RSAPrivateKey",
    "load_private_key",
    "rsa_sha256_sign_b64url",
    "verify_pkcs1v15_sha256",
]


class RSAKeyError(ValueError):
    """The PEM/DER could not be used as an RSA private key.

    Messages describe the problem (format, algorithm, size) and never echo any
    part of the key, so they can be shown to the user or logged as is.
    """


# DigestInfo prefix for SHA-256 (RFC 8017 §9.2, note 1).
_SHA256_DIGEST_INFO = bytes.fromhex("3031300d060960864801650304020105000420")
_MIN_MODULUS_BYTES = len(_SHA256_DIGEST_INFO) + 32 + 11  # smallest k EMSA-PKCS1-v1_5 allows

_OID_RSA_ENCRYPTION = "1.2.840.113549.1.1.1"
_OID_NAMES = {
    "1.2.840.113549.1.1.10": "RSASSA-PSS",
    "1.2.840.10045.2.1": "EC",
    "1.3.101.112": "Ed25519",
    "1.3.101.113": "Ed448",
    "1.3.101.110": "X25519",
    "1.3.101.111": "X448",
    "1.2.840.10040.4.1": "DSA",
    "1.2.840.10046.2.1": "DH",
}

# ASN.1 universal tags used here.
_INTEGER = 0x02
_BIT_STRING = 0x03
_OCTET_STRING = 0x04
_NULL = 0x05
_OID = 0x06
_SEQUENCE = 0x30


# ---------------------------------------------------------------------------
# Minimal DER reader.
# ---------------------------------------------------------------------------


def _read_tlv(data: bytes, pos: int) -> tuple[int, bytes, int]:
    """Read one DER element at ``pos``; return ``(tag, contents, next_pos)``."""
    end = len(data)
    if pos + 2 > end:
        raise RSAKeyError("malformed key: truncated DER")
    tag = data[pos]
    if tag & 0x1F == 0x1F:
        raise RSAKeyError("malformed key: unsupported DER tag")
    length = data[pos + 1]
    pos += 2
    if length & 0x80:
        nbytes = length & 0x7F
        if nbytes == 0 or nbytes > 4:
            raise RSAKeyError("malformed key: unsupported DER length")
        if pos + nbytes > end:
            raise RSAKeyError("malformed key: truncated DER")
        length = int.from_bytes(data[pos : pos + nbytes], "big")
        if length < 0x80 or data[pos] == 0:
            raise RSAKeyError("malformed key: non-minimal DER length")
        pos += nbytes
    if pos + length > end:
        raise RSAKeyError("malformed key: truncated DER")
    return tag, data[pos : pos + length], pos + length


def _read_sequence(data: bytes) -> list[tuple[int, bytes]]:
    """Split the contents of a constructed element into ``(tag, contents)`` items."""
    items = []
    pos = 0
    while pos < len(data):
        tag, value, pos = _read_tlv(data, pos)
        items.append((tag, value))
    return items


def _parse_single(data: bytes, expected_tag: int, what: str) -> bytes:
    tag, value, end = _read_tlv(data, 0)
    if tag != expected_tag or end != len(data):
        raise RSAKeyError(f"malformed key: {what} is not a single DER element")
    return value


def _der_integer(tag: int, value: bytes) -> int:
    if tag != _INTEGER or not value:
        raise RSAKeyError("malformed key: expected an INTEGER")
    if value[0] & 0x80:
        raise RSAKeyError("malformed key: negative INTEGER")
    return int.from_bytes(value, "big")


def _der_oid(value: bytes) -> str:
    if not value or value[-1] & 0x80:
        raise RSAKeyError("malformed key: bad OBJECT IDENTIFIER")
    arcs: list[int] = []
    acc = 0
    for b in value:
        acc = (acc << 7) | (b & 0x7F)
        if not b & 0x80:
            arcs.append(acc)
            acc = 0
    first = arcs[0]
    head = [0, first] if first < 40 else [1, first - 40] if first < 80 else [2, first - 80]
    return ".".join(str(a) for a in head + arcs[1:])


# ---------------------------------------------------------------------------
# Key structure.
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class RSAPrivateKey:
    """An RSA private key in CRT form (RFC 8017 §3.2).

    The repr shows only the modulus size, so a key that ends up in a log line or
    a traceback does not disclose anything secret.
    """

    n: int = field(repr=False)
    e: int = field(repr=False)
    d: int = field(repr=False)
    p: int = field(repr=False)
    q: int = field(repr=False)
    dp: int = field(repr=False)
    dq: int = field(repr=False)
    qinv: int = field(repr=False)

    def __repr__(self) -> str:
        return f"RSAPrivateKey(bits={self.n.bit_length()})"

    @property
    def size_bytes(self) -> int:
        """Modulus length in bytes (``k`` in RFC 8017), i.e. the signature length."""
        return (self.n.bit_length() + 7) // 8

    def sign_pkcs1v15_sha256(self, message: bytes) -> bytes:
        """RSASSA-PKCS1-v1_5 signature of ``message`` with SHA-256 (RFC 8017 §8.2.1).

        Uses CRT for speed, blinds the input against timing side channels, and
        verifies the result with the public exponent before returning so a
        faulty computation can never release a signature that would leak a
        prime factor (Boneh-DeMillo-Lipton / Lenstra fault attack).
        """
        k = self.size_bytes
        m = int.from_bytes(_emsa_pkcs1v15_sha256(message, k), "big")
        n, e = self.n, self.e
        while True:
            r = secrets.randbelow(n - 2) + 2
            if gcd(r, n) == 1:
                break
        blinded = (m * pow(r, e, n)) % n
        s1 = pow(blinded, self.dp, self.p)
        s2 = pow(blinded, self.dq, self.q)
        h = (self.qinv * (s1 - s2)) % self.p
        s = ((s2 + h * self.q) * pow(r, -1, n)) % n
        if pow(s, e, n) != m:
            raise RSAKeyError("RSA signature self-check failed (inconsistent key parameters)")
        return s.to_bytes(k, "big")


def _emsa_pkcs1v15_sha256(message: bytes, k: int) -> bytes:
    t = _SHA256_DIGEST_INFO + hashlib.sha256(message).digest()
    if k < len(t) + 11:
        raise RSAKeyError("RSA modulus too small for SHA-256 PKCS#1 v1.5")
    return b"\x00\x01" + b"\xff" * (k - len(t) - 3) + b"\x00" + t


def _parse_pkcs1(der: bytes) -> RSAPrivateKey:
    items = _read_sequence(_parse_single(der, _SEQUENCE, "RSAPrivateKey"))
    if len(items) < 9:
        raise RSAKeyError("malformed key: RSAPrivateKey has too few fields")
    version = _der_integer(*items[0])
    if version != 0 or len(items) != 9:
        raise RSAKeyError("unsupported RSA key: multi-prime keys are not supported")
    n, e, d, p, q, dp, dq, qinv = (_der_integer(*item) for item in items[1:9])
    return _validated(n, e, d, p, q, dp, dq, qinv)


def _validated(
    n: int, e: int, d: int, p: int, q: int, dp: int, dq: int, qinv: int
) -> RSAPrivateKey:
    # Cheap consistency checks; a key that fails them would produce wrong (and
    # potentially factor-leaking) signatures, so refuse it up front.
    if (n.bit_length() + 7) // 8 < _MIN_MODULUS_BYTES:
        raise RSAKeyError("RSA modulus too small")
    if (
        e < 3
        or not e & 1
        or p < 3
        or q < 3
        or p * q != n
        or d <= 0
        or (e * dp) % (p - 1) != 1
        or (e * dq) % (q - 1) != 1
        or (qinv * q) % p != 1
    ):
        raise RSAKeyError("inconsistent RSA key parameters")
    return RSAPrivateKey(n=n, e=e, d=d, p=p, q=q, dp=dp, dq=dq, qinv=qinv)


def _parse_pkcs8(der: bytes) -> RSAPrivateKey:
    items = _read_sequence(_parse_single(der, _SEQUENCE, "PrivateKeyInfo"))
    if len(items) < 3:
        raise RSAKeyError("malformed key: PrivateKeyInfo has too few fields")
    if _der_integer(*items[0]) not in (0, 1):
        raise RSAKeyError("unsupported PKCS#8 version")
    alg_tag, alg = items[1]
    if alg_tag != _SEQUENCE:
        raise RSAKeyError("malformed key: bad AlgorithmIdentifier")
    alg_items = _read_sequence(alg)
    if not alg_items or alg_items[0][0] != _OID:
        raise RSAKeyError("malformed key: bad AlgorithmIdentifier")
    oid = _der_oid(alg_items[0][1])
    if oid != _OID_RSA_ENCRYPTION:
        name = _OID_NAMES.get(oid, f"OID {oid}")
        raise RSAKeyError(f"not an RSA key: PKCS#8 algorithm is {name}")
    if len(alg_items) > 2 or (len(alg_items) == 2 and alg_items[1] != (_NULL, b"")):
        raise RSAKeyError("malformed key: unexpected rsaEncryption parameters")
    key_tag, key_der = items[2]
    if key_tag != _OCTET_STRING:
        raise RSAKeyError("malformed key: privateKey is not an OCTET STRING")
    return _parse_pkcs1(key_der)


# ---------------------------------------------------------------------------
# PEM.
# ---------------------------------------------------------------------------

_PEM_RE = re.compile(
    r"-----BEGIN ([A-Z0-9 ]+)-----(.*?)-----END ([A-Z0-9 ]+)-----",
    re.DOTALL,
)


def load_private_key(pem: str) -> RSAPrivateKey:
    """Load an unencrypted RSA private key from PKCS#8 or PKCS#1 PEM text.

    Accepts ``-----BEGIN PRIVATE KEY-----`` and ``-----BEGIN RSA PRIVATE KEY-----``.
    Literal ``\\n`` sequences (a key pasted from JSON or an environment
    variable) are tolerated. Encrypted keys, public keys and non-RSA keys are
    rejected with an RSAKeyError that names the problem but not the key.
    """
    if isinstance(pem, (bytes, bytearray)):
        try:
            pem = bytes(pem).decode("ascii")
        except UnicodeDecodeError:
            raise RSAKeyError("malformed PEM: not ASCII text") from None
    if not isinstance(pem, str):
        raise RSAKeyError("private key must be PEM text")
    text = pem.replace("\\r", "").replace("\\n", "\n")
    blocks = list(_PEM_RE.finditer(text))
    if not blocks:
        raise RSAKeyError("malformed PEM: no BEGIN/END block found")
    # A bundle may carry a certificate chain next to the key: use the key block.
    match = next((b for b in blocks if b.group(1).endswith("PRIVATE KEY")), blocks[0])
    label, body, end_label = match.group(1), match.group(2), match.group(3)
    if label != end_label:
        raise RSAKeyError("malformed PEM: BEGIN and END labels differ")
    if "ENCRYPTED" in label:
        raise RSAKeyError("encrypted private keys are not supported; decrypt the key first")
    if "PUBLIC KEY" in label or "CERTIFICATE" in label:
        raise RSAKeyError(f"expected a private key, got a PEM {label!r} block")
    if label not in ("PRIVATE KEY", "RSA PRIVATE KEY"):
        if label.endswith("PRIVATE KEY"):
            kind = label[: -len("PRIVATE KEY")].strip()
            raise RSAKeyError(f"not an RSA key: PEM block is {kind} PRIVATE KEY")
        raise RSAKeyError(f"unsupported PEM block {label!r}")
    lines = [line.strip() for line in body.strip().splitlines()]
    if any(":" in line for line in lines):
        # RFC 1421 headers, e.g. "Proc-Type: 4,ENCRYPTED" on legacy OpenSSL keys.
        if any(line.upper().startswith("PROC-TYPE:") and "ENCRYPTED" in line for line in lines):
            raise RSAKeyError("encrypted private keys are not supported; decrypt the key first")
        raise RSAKeyError("malformed PEM: unexpected header lines")
    try:
        der = base64.b64decode("".join("".join(lines).split()), validate=True)
    except (binascii.Error, ValueError):
        raise RSAKeyError("malformed PEM: invalid base64 body") from None
    if not der:
        raise RSAKeyError("malformed PEM: empty body")
    if label == "RSA PRIVATE KEY":
        return _parse_pkcs1(der)
    return _parse_pkcs8(der)


# ---------------------------------------------------------------------------
# Convenience API.
# ---------------------------------------------------------------------------


def rsa_sha256_sign_b64url(pem: str, text: str) -> str:
    """Sign ``text`` (UTF-8) with RS256 and return unpadded base64url.

    This is exactly the third segment of a JWT whose signing input is ``text``
    (``base64url(header) + "." + base64url(payload)``), as Google's OAuth token
    endpoint expects for service-account assertions.
    """
    signature = load_private_key(pem).sign_pkcs1v15_sha256(text.encode("utf-8"))
    return base64.urlsafe_b64encode(signature).rstrip(b"=").decode("ascii")


def verify_pkcs1v15_sha256(n: int, e: int, message: bytes, signature: bytes) -> bool:
    """Return True if ``signature`` is a valid RS256 signature of ``message``.

    Compares the full re-encoded block (no ASN.1 parsing of the signature), so
    the Bleichenbacher-2006 family of lax-parsing forgeries does not apply.
    """
    if n <= 0 or e <= 0:
        return False
    k = (n.bit_length() + 7) // 8
    if len(signature) != k or k < _MIN_MODULUS_BYTES:
        return False
    s = int.from_bytes(signature, "big")
    if s >= n:
        return False
    em = pow(s, e, n).to_bytes(k, "big")
    return hmac.compare_digest(em, _emsa_pkcs1v15_sha256(message, k))

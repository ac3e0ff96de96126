"""Tests for usagestat.core.rsa (RSASSA-PKCS1-v1_5 with SHA-256).

Known-answer source: Project Wycheproof ``testvectors/rsa_sig_gen_misc_test.json``
(C2SP/wycheproof), the 2048-bit / SHA-256 ``RsassaPkcs1Generate`` group,
tcId 81-88. PKCS#1 v1.5 signing is deterministic, so the exact signature bytes
are checked. ``PKCS1_PEM`` is that group's ``privateKeyPem``; ``PKCS8_PEM`` is
its ``privateKeyPkcs8`` DER in PEM armour (byte-identical to ``openssl pkcs8
-topk8 -nocrypt`` of the PKCS#1 key). The EC, Ed25519 and encrypted keys are
throwaway keys made with the openssl CLI when this file was written; they only
need to be rejected.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from usagestat.core.rsa import (
    RSAKeyError,
    RSAPrivateKey,
    load_private_key,
    rsa_sha256_sign_b64url,
    verify_pkcs1v15_sha256,
)

PKCS1_PEM = """\
-----BEGIN RSA PRIVATE KEY-----
MIIEowIBAAKCAQEAorRRoH0KpfluRVZxUTVQUUqKW0YuvvcXCU+h/ugiJOY3+XRt
P3yv0xh42AMltu9aFwD2WQO0aUKeidbqyIRQl7WrOTGJ25JRLtincRoSU/rNIPec
Fegkfz0+QuRuSMmOJUov6XZTE6A+/48X4aApOXofomqNzib0kO2BKZYV2YFMItph
BCjgnH2WWFlCZvXAIdD87KCNlFoSvoLeTR7Oa0wDFFtdNJXU7VQR64eNrwX9evw+
Ca2g8RJkIvWQl1oZaYFvSGmLy7obTZyuedRg2Pn4Xnl1AF2bwixOWsD3waRdElaa
YoB9O5oC5aUw53MGb0U9H1tMLpz3ggKD90K51QIDAQABAoIBAHYn7vNWeyonJo5S
BT7NMcOnFyzLndzugZswals8ZrdXPKT6iO/G88SgC/oK5xOfZFQ6Taw9BYI/b/R3
z87IT+KsemixcgSzkCMuEQMQxOiZxOfBCWfbSs3gQtu/GdvgC0tHQd4QIKqq/7UF
THl8nxNvfZOsP8jK/2ZUJC14IevuUXv1N/RDZqD91FrgW5kJwubMHtkoHv9Dmfds
lrliM+wprgu/DXUrI0/BlzifUQUKoazQHAdMOsj7256otlGpWZXo20rVxDtshnPl
oSbn7pS43/TFr8ASWbyNp2lQuub4uucV9QmFsNb2bQTG/vO3AHIO7NzfFxu3sey+
conEZ8ECgYEA3EMQUPeC6JT7UkgkfZjLfVi40eJPO1XQQcVuTeCGsNW7AovaQu61
0jTVaB5YCdQV5qKJrUz794+Xj2w1gU9Q7r/xxbgKafeI6B5rq13ap4Np1lnRQ+xv
F+eYE6V1z62cVpFWuQET4ukRCtnntIock0im5lMyEZEpDqNs+zpbGPECgYEAvRqB
55d/mJgSInOuMiK1mOpfsZ606rw4MIpeMhlmA7LlAP+3n1uIaBZhHevEcvrEVUQH
C+sFfJQTeKaGivO3oD0/mIDsR9XgiblPveVCq6mujXLFcIjXq/WxMfOQmPe8Fg+Q
U2q8lJL9Tgbz7XKZ1Ll7sDZ3IH2VZp8UDPvCDyUCgYEAqUtSiyjykVmRIdkZUv/R
x/IdfBR52Z1HiIX7Fhhw7hIYvwhHJhLb5Ul+jZxlBojgnHhpYa4+LDVNxIrjRRR1
nEwjxFiEiJYdwGtBTmHA4ef7vSkj0xUy/iifltoiBxHljBQBmAjgBBQnaTO7B+Tv
ubSps3ZWkXIFIJ8z8JUV18ECgYA68OcqkzrvCf8lA994uv7VMcAv8aK8Q3xUDNy9
StNUNc9RF2NZZUNIBimxFMp/eA/376MuoMtuAA1tnqHy73H9nPmUhCKhZVV+N+dV
7f5w2QuSBQLrR4vJimP3iM46D4Vtbt5yUaODv6j6SAqBqSWvezzFOMS6uMn3WX/7
aAEdjQKBgCZA+/vP77Fj7nqHtkg6Zu5B+VbZD6ink5v8BC7gkksbeZPQRF91jVGT
PoUXnAMgsMlotIqRw4tb6SPhCXwMVi+I1CKUtqJ1m6+lQop08ScIdORfb8xg8hYC
3l7M0UPPMSQfWSG1rTmD+1TvF747KFNn5QyZnGcke1Uv5L/OlF97
-----END RSA PRIVATE KEY-----
"""

PKCS8_PEM = """\
-----BEGIN PRIVATE KEY-----
MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQCitFGgfQql+W5F
VnFRNVBRSopbRi6+9xcJT6H+6CIk5jf5dG0/fK/TGHjYAyW271oXAPZZA7RpQp6J
1urIhFCXtas5MYnbklEu2KdxGhJT+s0g95wV6CR/PT5C5G5IyY4lSi/pdlMToD7/
jxfhoCk5eh+iao3OJvSQ7YEplhXZgUwi2mEEKOCcfZZYWUJm9cAh0PzsoI2UWhK+
gt5NHs5rTAMUW100ldTtVBHrh42vBf16/D4JraDxEmQi9ZCXWhlpgW9IaYvLuhtN
nK551GDY+fheeXUAXZvCLE5awPfBpF0SVppigH07mgLlpTDncwZvRT0fW0wunPeC
AoP3QrnVAgMBAAECggEAdifu81Z7KicmjlIFPs0xw6cXLMud3O6BmzBqWzxmt1c8
pPqI78bzxKAL+grnE59kVDpNrD0Fgj9v9HfPzshP4qx6aLFyBLOQIy4RAxDE6JnE
58EJZ9tKzeBC278Z2+ALS0dB3hAgqqr/tQVMeXyfE299k6w/yMr/ZlQkLXgh6+5R
e/U39ENmoP3UWuBbmQnC5swe2Sge/0OZ92yWuWIz7CmuC78NdSsjT8GXOJ9RBQqh
rNAcB0w6yPvbnqi2UalZlejbStXEO2yGc+WhJufulLjf9MWvwBJZvI2naVC65vi6
5xX1CYWw1vZtBMb+87cAcg7s3N8XG7ex7L5yicRnwQKBgQDcQxBQ94LolPtSSCR9
mMt9WLjR4k87VdBBxW5N4Iaw1bsCi9pC7rXSNNVoHlgJ1BXmoomtTPv3j5ePbDWB
T1Duv/HFuApp94joHmurXdqng2nWWdFD7G8X55gTpXXPrZxWkVa5ARPi6REK2ee0
ihyTSKbmUzIRkSkOo2z7OlsY8QKBgQC9GoHnl3+YmBIic64yIrWY6l+xnrTqvDgw
il4yGWYDsuUA/7efW4hoFmEd68Ry+sRVRAcL6wV8lBN4poaK87egPT+YgOxH1eCJ
uU+95UKrqa6NcsVwiNer9bEx85CY97wWD5BTaryUkv1OBvPtcpnUuXuwNncgfZVm
nxQM+8IPJQKBgQCpS1KLKPKRWZEh2RlS/9HH8h18FHnZnUeIhfsWGHDuEhi/CEcm
EtvlSX6NnGUGiOCceGlhrj4sNU3EiuNFFHWcTCPEWISIlh3Aa0FOYcDh5/u9KSPT
FTL+KJ+W2iIHEeWMFAGYCOAEFCdpM7sH5O+5tKmzdlaRcgUgnzPwlRXXwQKBgDrw
5yqTOu8J/yUD33i6/tUxwC/xorxDfFQM3L1K01Q1z1EXY1llQ0gGKbEUyn94D/fv
oy6gy24ADW2eofLvcf2c+ZSEIqFlVX4351Xt/nDZC5IFAutHi8mKY/eIzjoPhW1u
3nJRo4O/qPpICoGpJa97PMU4xLq4yfdZf/toAR2NAoGAJkD7+8/vsWPueoe2SDpm
7kH5VtkPqKeTm/wELuCSSxt5k9BEX3WNUZM+hRecAyCwyWi0ipHDi1vpI+EJfAxW
L4jUIpS2onWbr6VCinTxJwh05F9vzGDyFgLeXszRQ88xJB9ZIbWtOYP7VO8Xvjso
U2flDJmcZyR7VS/kv86UX3s=
-----END PRIVATE KEY-----
"""

PUBLIC_PEM = """\
-----BEGIN PUBLIC KEY-----
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAorRRoH0KpfluRVZxUTVQ
UUqKW0YuvvcXCU+h/ugiJOY3+XRtP3yv0xh42AMltu9aFwD2WQO0aUKeidbqyIRQ
l7WrOTGJ25JRLtincRoSU/rNIPecFegkfz0+QuRuSMmOJUov6XZTE6A+/48X4aAp
OXofomqNzib0kO2BKZYV2YFMItphBCjgnH2WWFlCZvXAIdD87KCNlFoSvoLeTR7O
a0wDFFtdNJXU7VQR64eNrwX9evw+Ca2g8RJkIvWQl1oZaYFvSGmLy7obTZyuedRg
2Pn4Xnl1AF2bwixOWsD3waRdElaaYoB9O5oC5aUw53MGb0U9H1tMLpz3ggKD90K5
1QIDAQAB
-----END PUBLIC KEY-----
"""

WYCHEPROOF_N = int(
    "a2b451a07d0aa5f96e455671513550514a8a5b462ebef717094fa1fee82224e637f9746d3f7cafd31878d80325"
    "b6ef5a1700f65903b469429e89d6eac8845097b5ab393189db92512ed8a7711a1253facd20f79c15e8247f3d3e"
    "42e46e48c98e254a2fe9765313a03eff8f17e1a029397a1fa26a8dce26f490ed81299615d9814c22da610428e0"
    "9c7d9658594266f5c021d0fceca08d945a12be82de4d1ece6b4c03145b5d3495d4ed5411eb878daf05fd7afc3e"
    "09ada0f1126422f590975a1969816f48698bcbba1b4d9cae79d460d8f9f85e7975005d9bc22c4e5ac0f7c1a45d"
    "12569a62807d3b9a02e5a530e773066f453d1f5b4c2e9cf7820283f742b9d5",
    16,
)
WYCHEPROOF_E = 65537

# (tcId, msg hex, sig hex) from the 2048-bit SHA-256 group.
WYCHEPROOF_VECTORS = [
    (
        81,
        "",
        "840f5dac53106dd1f9c57219224cf51289290c42f20466875ba8e830ac5690e541536fcc8ab03b731f82bf66d8"
        "3f194e7e180b3963ec7a2f3f7904a7ce49aed47da4d4b79421eaf937d301b3e696169297b797c32c076a12be4d"
        "e0b58e003c5123051a84a10c62f8dac2f42a8640008eb3c7cccd6760ff5b51b689763922582845f048fb8150e5"
        "a7a6ca2eccc7bdc85349ad5b26c52137a79fa3fe5c29ab5cd7615013219c1941b6708e9c3c23feff5febaf0c8e"
        "bca5750b54e3e6e99a3e876b396f27860b7f3ec4e9191703c6332d944f6f69751167680c79c4f6b57f1cc8755d"
        "24b6ec158ccdbacdb23107a33cb6b332516c13274d1f9dccc21dced869e486",
    ),
    (
        83,
        "54657374",
        "264491e844c119f14e425c03282139a558dcdaeb82a4628173cd407fd319f9076eaebc0dd87a1c22e4d1783909"
        "6886d58a9d5b7f7aeb63efec56c45ac7bead4203b6886e1faa90e028ec0ae094d46bf3f97efdd19045cfbc25a1"
        "abda2432639f9876405c0d68f8edbf047c12a454f7681d5d5a2b54bd3723d193dbad4338baad753264006e2d08"
        "931c4b8bb79aa1c9cad10eb6605f87c5831f6e2b08e002f9c6f21141f5841d92727dd3e1d99c36bc560da3c906"
        "7df99fcaf818941f72588be33032bad22caf6704223bb114d575b6d02d9d222b580005d930e8f40cce9f672eeb"
        "b634a20177d84351627964b83f2053d736a84ab1a005f63bd5ba943de6205c",
    ),
    (
        85,
        "4d657373616765",
        "513a5abde16b5e0ecb8659d3ca0845800adf75cfc4437d42fa34e7aafbbe35fc5984d3560cba938f9a622e932b"
        "b6162b7fbb6cd8c1cf8815f28c495995ac18cdbe8fabfdce29c17aa021df192ac02d080d7c5eda6bd4c9915417"
        "8a9d5e1cf3ff4177106315f4e6d74c991b601069acd60b55b3bb4dbf6316c35096a487d6756181d3394944f1c7"
        "42a2f4d608ce4f6abbfb72347ad7d342ae15dd6d1049fbd0ff55f4d7c43ab805f81ff1fbe9256b5c78c2de6beb"
        "787f4b6d66d290a3d4c4857368aea5f7ebaa1296020c8f9e3670441a08038bb810e853a654e44316a4e5242874"
        "5123ce2714020d00e55a9eb82f7fb41c73d852a82b003670246c6ca2045fc8",
    ),
    (
        87,
        "e0e1e2e3e4e5e6e7e8e9eaebecedeeeff0f1f2f3f4f5f6f7f8f9fafbfcfdfeff",
        "2ae8d95b19cbd64d0e343ff413fffb85d8e6713c06ac8a1ceba7f3924fa740f8d2b3e120fd71f22711e795cd64"
        "68c5e263b1a5ba6ac6b8fa9e23d2d6e7243f510592a61d134e68b8ead00612dbf38c5b7302abc3bf33f23e6d48"
        "16a6e3ddcea6482566e84f57464f7d56de4cef0b2256ef21874dda4c131a47292ff8ef853f93804483c8e6373d"
        "39ca3a22552e75427b812b861de6a310ff4c366f6f6604116efd9770170aa423554c4ebbd2b5c0698950e66bb5"
        "b7c5c346285d9f5c35146255736b6e818e8e77983c93b21e7f60b04a7a525598e7fd8049b181000bffc7f3753a"
        "504370f6bb70617ac8e914deb05a198a5758a459c9fcd2fce1aede48e8a852",
    ),
]

EC_SEC1_PEM = """\
-----BEGIN EC PRIVATE KEY-----
MHcCAQEEIBA5rLJzTFzyCfV4Lim60O43TjYbgYm5Sykn8/7v9NlboAoGCCqGSM49
AwEHoUQDQgAEn+ksAKWbtBlsf8WYH7WHOxi3tAsHF55ylxPnevZ+YfRE5D18xYvv
ig6VB3V968VrO8FeR1q9Z2Bj5yXO+c0egw==
-----END EC PRIVATE KEY-----
"""

EC_PKCS8_PEM = """\
-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgEDmssnNMXPIJ9Xgu
KbrQ7jdONhuBiblLKSfz/u/02VuhRANCAASf6SwApZu0GWx/xZgftYc7GLe0CwcX
nnKXE+d69n5h9ETkPXzFi++KDpUHdX3rxWs7wV5HWr1nYGPnJc75zR6D
-----END PRIVATE KEY-----
"""

ED25519_PKCS8_PEM = """\
-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VwBCIEICxIr5lkYywgYm4u2fWdHCiDT5uBHdbhaM0Xc9bO/LJe
-----END PRIVATE KEY-----
"""

ENCRYPTED_PKCS8_PEM = """\
-----BEGIN ENCRYPTED PRIVATE KEY-----
MIIC3TBXBgkqhkiG9w0BBQ0wSjApBgkqhkiG9w0BBQwwHAQIVjo9tIQLPYsCAggA
MAwGCCqGSIb3DQIJBQAwHQYJYIZIAWUDBAEqBBCCXgMAC27u0P5If69EErOXBIIC
gGw2XDgrZXM+7lxAZigE2wMmLlbZw8pWAbwH/OKA77bQjKrdYHgfo/yLPSSOydSw
l3EmjLWCl8owJHX8d5eRTNhf18ed70ChA1bEynk6ooRBnCsmcQAr9wishCdXdkdd
LuS73f1T6qZAqNhDwt28Mkuo/5Y4jvltrk97v/pXmQ2kKjokRb957x462l0duc3h
zlZBT3RnohAHiptL2KqJOhp+Mi1MZOW+nPNGAYv7LfEjMDGyhGaDKiJGsdIxCbd7
/fRrIcpuyLOcLL5G04aTq3xtWuZVrpfvaSPU/v1D3dtKB2SU02NQ53s9Nx0zxRyf
/58bcuKCN+QkR+fWw6vyQovrd/Z7gB/878eQA7IB2oaXKbiuV1wEvpioLwEUg33f
P0rzIbjNQHE0+3oKCnUXN0TZ0MVUpdOwcemC8j+BCfQtLyNIjvsCpLyzl7ENBhcW
jRsMp/k00LtgRHNlVPts3XhgiGXY7tzt9EmAybwSxPtlAmwvNAYz5lY4oeilJfc2
2PVUwJKo0KF8CzaCurV1UY4F+n2zPd3IrZxgZQ0V/rLzjI1rCTxIOolvkCiMfFSU
qxWB3riyxECWyL5/r1yG+1R/+8Rhj6obwrqN0a323k8R7X4POAKliGRo8AetLBYc
aIFJ8sHOpO6Bzs79BMb64bKWvPSw3et5yWPK6ZBRybrXPuO80V2n9DAANhG+wVtx
3aiNqRdtGgkLa3/+bFnKTUnmuht+ODiqlhHicit7hwbzOAp8xJMCz1NqVSA57xfY
csgvZUJ1vXy8HLdzynKgBKYKIRi9e3VFX+H5dztR1qYah09w2DbChz4XHpx6pWaJ
U9natyzdqjxGqs665g7n5VU=
-----END ENCRYPTED PRIVATE KEY-----
"""

ENCRYPTED_PKCS1_PEM = """\
-----BEGIN RSA PRIVATE KEY-----
Proc-Type: 4,ENCRYPTED
DEK-Info: AES-128-CBC,82590B1AC5FC822D2F8DB3F24ECCCD8D

4AnmCi9U/SPJHmu5OJrBaIYbNHamEvekn09m3Zss+AaQwbalTUh1LYNf7YlN6YrM
2oYpH8k2KMc+2Doe5DEK2cZfSrfDrWKsl16/ls0rpWDBPaHH+r6BdnOzUraNeYk0
IScc5aOB9F9wh0xFfttXBAtTba/5hdmeD4x4hPW7OBwhPz+9qlSb7jbEDXbMdEai
FgndCYvt4xGdIYaneesAfwRFW4SWZj3xbT8T9cF3T6s8pHrNaZfajcimIyKyHt6d
jg27nD8igWdjeedNfUDi1NHbivqiZGaVF/uxY+NFIK3cMtwreC8qsfXIXLK4a3rR
rVvVhovTVBaltwJCgMSjGvIVbTcu8WC718yTiODMWc2vLYSk4Hru2ijWCVW4p1bI
m45JDOZKuR8zxgPtDmQ3uHvSOa3DtZK7FZfqeVYRYm4sU/Bcfa29I8xb07Ude3+K
mcTTuvwW1zZPtmUufyLuupo9v4w8LNCkRASLJhnGdeImTezzgCsogXbDlxRFusM5
iEBdK7wOcOLF/w21txCexS5d3SCmHtfYoLSkJiSBxm+8gNRDu3AY1sqPl9leW5Xv
WiV/M0Bcr/V/cyFjE2LQXBYKXwNb0xSdNBzFdMIbYlQyltZh20+vrb+GCQN0oOrn
XqRmaT9pZemg/qdJ9ZHxf6TJr2aStyGG0j8sphE+dpEkNTSWHW6396DwtGxmtwY3
8ZSwKeIpHiXoOzR3H7kW3uBze0LtyOHmRPYq5mN6MlrK+NDnAKdtmr4yGxM+/oBV
dgnhdSXXCFO65arE+gbsDhx1CM5MSFwwuTVXzWkUADkThEHagZXpi0F46Vr9xdY1
-----END RSA PRIVATE KEY-----
"""


def _pem_body_lines(pem: str) -> list[str]:
    return [line for line in pem.splitlines() if line and not line.startswith("-----")]


def _assert_no_key_text(message: str, pem: str) -> None:
    for line in _pem_body_lines(pem):
        # Any 12-character run of the key's base64 would count as a leak.
        for i in range(0, max(len(line) - 12, 0) + 1, 6):
            assert line[i : i + 12] not in message


def _der(tag: int, content: bytes) -> bytes:
    n = len(content)
    if n < 0x80:
        length = bytes([n])
    else:
        raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
        length = bytes([0x80 | len(raw)]) + raw
    return bytes([tag]) + length + content


def _der_int(value: int) -> bytes:
    return _der(0x02, value.to_bytes(value.bit_length() // 8 + 1, "big"))


def _pem(label: str, der: bytes) -> str:
    b64 = base64.b64encode(der).decode()
    lines = [b64[i : i + 64] for i in range(0, len(b64), 64)]
    return f"-----BEGIN {label}-----\n" + "\n".join(lines) + f"\n-----END {label}-----\n"


def _pem_der(pem: str) -> bytes:
    return base64.b64decode("".join(_pem_body_lines(pem)))


def _pkcs1_der(key: RSAPrivateKey) -> bytes:
    fields = (0, key.n, key.e, key.d, key.p, key.q, key.dp, key.dq, key.qinv)
    return _der(0x30, b"".join(_der_int(v) for v in fields))


RSA_ALG_ID = bytes.fromhex("300d06092a864886f70d0101010500")


@pytest.fixture(scope="module")
def key() -> RSAPrivateKey:
    return load_private_key(PKCS1_PEM)


# --- Known answers ------------------------------------------------------------


@pytest.mark.parametrize(
    ("tc", "msg", "sig"), WYCHEPROOF_VECTORS, ids=[f"tcId{v[0]}" for v in WYCHEPROOF_VECTORS]
)
def test_wycheproof_signatures_exact(key: RSAPrivateKey, tc: int, msg: str, sig: str) -> None:
    signature = key.sign_pkcs1v15_sha256(bytes.fromhex(msg))
    assert signature.hex() == sig
    assert verify_pkcs1v15_sha256(WYCHEPROOF_N, WYCHEPROOF_E, bytes.fromhex(msg), signature)


def test_loaded_key_matches_published_modulus(key: RSAPrivateKey) -> None:
    assert key.n == WYCHEPROOF_N
    assert key.e == WYCHEPROOF_E
    assert key.p * key.q == key.n
    assert key.size_bytes == 256


def test_pkcs8_and_pkcs1_are_the_same_key() -> None:
    k1 = load_private_key(PKCS1_PEM)
    k8 = load_private_key(PKCS8_PEM)
    assert k1 == k8
    msg = b"same key, same signature"
    assert k1.sign_pkcs1v15_sha256(msg) == k8.sign_pkcs1v15_sha256(msg)
    _, _, sig = WYCHEPROOF_VECTORS[1]
    assert k8.sign_pkcs1v15_sha256(b"Test").hex() == sig


def test_pkcs8_constant_is_the_wrapped_pkcs1_der() -> None:
    # PrivateKeyInfo ::= SEQUENCE { 0, rsaEncryption AlgorithmIdentifier, OCTET STRING(PKCS#1) }
    pkcs1_der = _pem_der(PKCS1_PEM)
    wrapped = _der(0x30, _der_int(0) + RSA_ALG_ID + _der(0x04, pkcs1_der))
    assert wrapped == _pem_der(PKCS8_PEM)
    assert load_private_key(_pem("PRIVATE KEY", wrapped)) == load_private_key(PKCS1_PEM)


def test_pkcs8_without_null_parameters_is_accepted() -> None:
    alg_no_null = _der(0x30, bytes.fromhex("06092a864886f70d010101"))
    der = _der(0x30, _der_int(0) + alg_no_null + _der(0x04, _pem_der(PKCS1_PEM)))
    assert load_private_key(_pem("PRIVATE KEY", der)).n == WYCHEPROOF_N


# --- JWT use ---------------------------------------------------------------------


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def test_jwt_style_signature_verifies() -> None:
    header = _b64url(json.dumps({"alg": "RS256", "typ": "JWT"}).encode())
    payload = _b64url(
        json.dumps(
            {
                "iss": "svc@example.iam.gserviceaccount.com",
                "scope": "https://www.googleapis.com/auth/cloud-platform",
                "aud": "https://oauth2.googleapis.com/token",
                "iat": 1700000000,
                "exp": 1700003600,
            }
        ).encode()
    )
    signing_input = f"{header}.{payload}"
    sig_b64 = rsa_sha256_sign_b64url(PKCS1_PEM, signing_input)
    assert re.fullmatch(r"[A-Za-z0-9_-]+", sig_b64)  # base64url, no padding
    assert len(sig_b64) == 342  # ceil(256 * 8 / 6) without '=' padding
    signature = base64.urlsafe_b64decode(sig_b64 + "==")
    assert verify_pkcs1v15_sha256(WYCHEPROOF_N, WYCHEPROOF_E, signing_input.encode(), signature)
    assert not verify_pkcs1v15_sha256(
        WYCHEPROOF_N, WYCHEPROOF_E, (signing_input + "x").encode(), signature
    )
    # Deterministic: PKCS#8 text gives the identical JWT signature.
    assert rsa_sha256_sign_b64url(PKCS8_PEM, signing_input) == sig_b64


def test_sign_accepts_json_escaped_newlines_and_non_ascii_text() -> None:
    escaped = PKCS8_PEM.replace("\n", "\\n")  # as pasted from a service-account JSON
    text = "héllo.wörld"
    sig = base64.urlsafe_b64decode(rsa_sha256_sign_b64url(escaped, text) + "==")
    assert verify_pkcs1v15_sha256(WYCHEPROOF_N, WYCHEPROOF_E, text.encode("utf-8"), sig)


def test_key_inside_a_bundle_with_other_blocks() -> None:
    bundle = PUBLIC_PEM + "\n" + PKCS8_PEM
    assert load_private_key(bundle).n == WYCHEPROOF_N


# --- Verification edge cases ----------------------------------------------------


def test_verify_rejects_malformed_signatures(key: RSAPrivateKey) -> None:
    msg = b"payload"
    sig = key.sign_pkcs1v15_sha256(msg)
    n, e = WYCHEPROOF_N, WYCHEPROOF_E
    assert verify_pkcs1v15_sha256(n, e, msg, sig)
    assert not verify_pkcs1v15_sha256(n, e, msg, sig[1:])  # short
    assert not verify_pkcs1v15_sha256(n, e, msg, b"\x00" + sig)  # long
    assert not verify_pkcs1v15_sha256(n, e, msg, bytes([sig[0] ^ 1]) + sig[1:])
    assert not verify_pkcs1v15_sha256(n, e, msg, n.to_bytes(256, "big"))  # s >= n
    assert not verify_pkcs1v15_sha256(n, e, msg, bytes(256))
    assert not verify_pkcs1v15_sha256(n, 3, msg, sig)
    assert not verify_pkcs1v15_sha256(0, e, msg, sig)


def test_verify_rejects_sha1_digest_info(key: RSAPrivateKey) -> None:
    # A valid PKCS#1 v1.5 block for SHA-1 must not pass as SHA-256.
    sha1_prefix = bytes.fromhex("3021300906052b0e03021a05000414")
    t = sha1_prefix + hashlib.sha1(b"m").digest()
    em = b"\x00\x01" + b"\xff" * (256 - len(t) - 3) + b"\x00" + t
    s = pow(int.from_bytes(em, "big"), key.d, key.n).to_bytes(256, "big")
    assert not verify_pkcs1v15_sha256(key.n, key.e, b"m", s)


@settings(max_examples=20, deadline=None)
@given(message=st.binary(max_size=300))
def test_sign_verify_property(key: RSAPrivateKey, message: bytes) -> None:
    sig = key.sign_pkcs1v15_sha256(message)
    assert len(sig) == 256
    assert verify_pkcs1v15_sha256(key.n, key.e, message, sig)
    assert sig == key.sign_pkcs1v15_sha256(message)  # blinding must not change the result


# --- Safety ---------------------------------------------------------------------


def test_repr_does_not_leak_key_material(key: RSAPrivateKey) -> None:
    text = repr(key) + str(key)
    assert text == "RSAPrivateKey(bits=2048)" * 2
    for value in (key.n, key.d, key.p, key.q, key.dp, key.dq, key.qinv):
        assert str(value)[:12] not in text
        assert format(value, "x")[:12] not in text


def test_fault_in_crt_is_caught_before_release(key: RSAPrivateKey) -> None:
    faulty = RSAPrivateKey(
        n=key.n, e=key.e, d=key.d, p=key.p, q=key.q, dp=key.dp ^ 2, dq=key.dq, qinv=key.qinv
    )
    with pytest.raises(RSAKeyError) as info:
        faulty.sign_pkcs1v15_sha256(b"x")
    _assert_no_key_text(str(info.value), PKCS1_PEM)


def test_inconsistent_crt_parameters_rejected_at_load(key: RSAPrivateKey) -> None:
    fields = [0, key.n, key.e, key.d, key.p, key.q, key.dp, key.dq, key.qinv + 1]
    der = _der(0x30, b"".join(_der_int(v) for v in fields))
    with pytest.raises(RSAKeyError, match="inconsistent"):
        load_private_key(_pem("RSA PRIVATE KEY", der))


def test_multiprime_and_small_keys_rejected(key: RSAPrivateKey) -> None:
    der = _pkcs1_der(key)
    multi = _der(0x30, _der_int(1) + der[4:] + _der(0x30, b""))
    with pytest.raises(RSAKeyError, match="multi-prime"):
        load_private_key(_pem("RSA PRIVATE KEY", multi))
    # 61 + 61 bit toy key: far below what SHA-256 PKCS#1 v1.5 can fit.
    p, q, e = 2305843009213693951, 618970019642690137449562111, 65537
    d = pow(e, -1, (p - 1) * (q - 1))
    toy = [0, p * q, e, d, p, q, d % (p - 1), d % (q - 1), pow(q, -1, p)]
    with pytest.raises(RSAKeyError, match="too small"):
        load_private_key(_pem("RSA PRIVATE KEY", _der(0x30, b"".join(_der_int(v) for v in toy))))


@pytest.mark.parametrize(
    ("pem", "match"),
    [
        (EC_SEC1_PEM, "not an RSA key"),
        (EC_PKCS8_PEM, "EC"),
        (ED25519_PKCS8_PEM, "Ed25519"),
        (ENCRYPTED_PKCS8_PEM, "encrypted"),
        (ENCRYPTED_PKCS1_PEM, "encrypted"),
        (PUBLIC_PEM, "expected a private key"),
    ],
    ids=["ec-sec1", "ec-pkcs8", "ed25519-pkcs8", "encrypted-pkcs8", "encrypted-pkcs1", "public"],
)
def test_unusable_keys_rejected_without_leaking(pem: str, match: str) -> None:
    with pytest.raises(RSAKeyError, match=match) as info:
        load_private_key(pem)
    _assert_no_key_text(str(info.value), pem)


def _malformed_inputs() -> list[tuple[str, str]]:
    body = _pem_body_lines(PKCS1_PEM)
    der = _pem_der(PKCS1_PEM)
    return [
        ("empty", ""),
        ("not-pem", "this is not a key"),
        ("missing-end", "\n".join(PKCS1_PEM.splitlines()[:-1])),
        ("label-mismatch", PKCS1_PEM.replace("END RSA PRIVATE KEY", "END PRIVATE KEY")),
        (
            "bad-base64",
            PKCS1_PEM.replace(body[3], body[3][:10] + "!!" + body[3][12:]),
        ),
        (
            "truncated-body",
            "-----BEGIN RSA PRIVATE KEY-----\n"
            + "\n".join(body[:10])
            + "\n-----END RSA PRIVATE KEY-----\n",
        ),
        ("truncated-der", _pem("RSA PRIVATE KEY", der[:-7])),
        ("trailing-garbage", _pem("RSA PRIVATE KEY", der + b"\x00\x00")),
        ("pkcs1-under-pkcs8-label", PKCS1_PEM.replace("RSA PRIVATE KEY", "PRIVATE KEY")),
        ("pkcs8-under-pkcs1-label", PKCS8_PEM.replace("PRIVATE KEY", "RSA PRIVATE KEY")),
        ("empty-body", "-----BEGIN PRIVATE KEY-----\n-----END PRIVATE KEY-----\n"),
        ("header-lines", PKCS1_PEM.replace("-----\n", "-----\nComment: hi\n\n", 1)),
        ("certificate", _pem("CERTIFICATE", der)),
    ]


@pytest.mark.parametrize(
    ("name", "pem"), _malformed_inputs(), ids=[name for name, _ in _malformed_inputs()]
)
def test_malformed_pem_raises_rsakeyerror_without_leaking(name: str, pem: str) -> None:
    with pytest.raises(RSAKeyError) as info:
        load_private_key(pem)
    assert isinstance(info.value, ValueError)
    _assert_no_key_text(str(info.value), PKCS1_PEM)
    _assert_no_key_text(str(info.value), pem)


@settings(max_examples=50, deadline=None)
@given(noise=st.binary(max_size=300))
def test_random_der_never_crashes(noise: bytes) -> None:
    for label in ("PRIVATE KEY", "RSA PRIVATE KEY"):
        with pytest.raises(RSAKeyError):
            load_private_key(_pem(label, noise))

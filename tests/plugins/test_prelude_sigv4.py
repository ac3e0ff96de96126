"""ctx.sigv4 (prelude 70-sigv4.js) against the providers' published example signatures.

Each case runs through the real host: a throwaway plugin calls ``ctx.sigv4.sign`` and
returns the signature as a text line, so the HMAC chain goes through
``crypto.hmacSha256Hex``/``sha256Hex`` exactly as aws-bedrock and doubao use it.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

AWS_SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
# The session token of the AWS SigV4 test suite (post-sts-token).
STS_TOKEN = (
    "AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeoI"
    "YRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0w"
    "q5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+scqKmlzm8FDr"
    "ypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA=="
)

CASES = {
    # AWS General Reference, "Signature Version 4 signing process" worked example
    # (IAM ListUsers, 2015-08-30).
    "iam-list-users": {
        "scheme": "AWS",
        "request": {
            "method": "GET",
            "url": "https://iam.amazonaws.com/?Action=ListUsers&Version=2010-05-08",
            "headers": {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
            "accessKeyId": "AKIDEXAMPLE",
            "secretAccessKey": AWS_SECRET,
            "region": "us-east-1",
            "service": "iam",
            "date": "20150830T123600Z",
        },
        "signature": "5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7",
        "signedHeaders": "content-type;host;x-amz-date",
    },
    # AWS SigV4 test suite: get-vanilla.
    "get-vanilla": {
        "scheme": "AWS",
        "request": {
            "method": "GET",
            "url": "https://example.amazonaws.com/",
            "accessKeyId": "AKIDEXAMPLE",
            "secretAccessKey": AWS_SECRET,
            "region": "us-east-1",
            "service": "service",
            "date": "20150830T123600Z",
        },
        "signature": "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
        "signedHeaders": "host;x-amz-date",
    },
    # AWS SigV4 test suite: post-sts-token/post-sts-header-before (token signed).
    "post-sts-header-before": {
        "scheme": "AWS",
        "request": {
            "method": "POST",
            "url": "https://example.amazonaws.com/",
            "accessKeyId": "AKIDEXAMPLE",
            "secretAccessKey": AWS_SECRET,
            "sessionToken": STS_TOKEN,
            "region": "us-east-1",
            "service": "service",
            "date": "20150830T123600Z",
        },
        "signature": "85d96828115b5dc0cfc3bd16ad9e210dd772bbebba041836c64533a82be05ead",
        "signedHeaders": "host;x-amz-date;x-amz-security-token",
    },
    # Volcengine "签名示例" (signing example, docs/6369/67270): IAM ListUsers with the
    # documented demo AK/SK at 2020-12-30T08:18:05Z, query parameters out of order.
    "volcengine-list-users": {
        "scheme": "VOLCENGINE",
        "request": {
            "method": "GET",
            "url": "https://iam.volcengineapi.com/?Version=2018-01-01&Action=ListUsers&Offset=0&Limit=10",
            "headers": {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
            "accessKeyId": "AKLTMjI2ODVlYzI3ZGY1NGU4ZjhjYWRjMTlmNTM5OTZkYzE",
            "secretAccessKey": "TnpCak5XWXpZV1U0WkRaaE5ERmxaR0ZpTmpjeVkyUXlZek0wTWpJMU1qWQ==",
            "region": "cn-north-1",
            "service": "iam",
            "date": "20201230T081805Z",
        },
        "signature": "28eeabbbd726b87002e0fe58ad8c1c768e619b06e2646f35b6ad7ed029a6d8a7",
        "signedHeaders": "content-type;host;x-content-sha256;x-date",
    },
}

PLUGIN_JS = """
var CASES = %s;
globalThis.__usagestat_plugin = {
  id: "sigv4-probe",
  probe: function (ctx) {
    var metrics = [];
    Object.keys(CASES).forEach(function (name) {
      var c = CASES[name];
      var req = Object.assign({scheme: ctx.sigv4[c.scheme]}, c.request);
      var s = ctx.sigv4.sign(req);
      metrics.push(ctx.line.text({label: name, value: s.signature}));
      metrics.push(ctx.line.text({label: name + ":signed", value: s.signedHeaders}));
      metrics.push(ctx.line.text({label: name + ":auth", value: s.authorization}));
      metrics.push(ctx.line.text({label: name + ":headers", value: JSON.stringify(Object.keys(s.headers).sort())}));
    });
    // The signing-key chain of the AWS "derive a signing key" example.
    metrics.push(ctx.line.text({label: "signing-key",
      value: ctx.sigv4.signingKey("%s", "20120215", "us-east-1", "iam", ctx.sigv4.AWS)}));
    metrics.push(ctx.line.text({label: "date", value: ctx.sigv4.formatDate(Date.UTC(2015, 7, 30, 12, 36, 0))}));
    return {metrics: metrics};
  },
};
"""


@pytest.fixture
def signer_dir(tmp_path: Path) -> str:
    folder = tmp_path / "sigv4-probe"
    folder.mkdir()
    (folder / "plugin.json").write_text(
        json.dumps(
            {"id": "sigv4-probe", "name": "SigV4 probe", "entry": "plugin.js", "permissions": {}}
        )
    )
    (folder / "plugin.js").write_text(PLUGIN_JS % (json.dumps(CASES), AWS_SECRET))
    return str(folder)


def test_signatures_match_the_published_examples(plugin_env, signer_dir):
    run = plugin_env.probe("sigv4-probe", plugin_dirs=[signer_dir])
    assert run.state == "ready", run.error
    for name, case in CASES.items():
        assert run.metric(name)["value"] == case["signature"], name
        assert run.metric(name + ":signed")["value"] == case["signedHeaders"], name
        scope_end = "aws4_request" if case["scheme"] == "AWS" else "request"
        algorithm = "AWS4-HMAC-SHA256" if case["scheme"] == "AWS" else "HMAC-SHA256"
        req = case["request"]
        assert run.metric(name + ":auth")["value"] == (
            f"{algorithm} Credential={req['accessKeyId']}/{req['date'][:8]}/{req['region']}/"
            f"{req['service']}/{scope_end}, SignedHeaders={case['signedHeaders']}, "
            f"Signature={case['signature']}"
        )
    # Headers the caller must send: its own plus date/token/hash and Authorization, never Host.
    assert json.loads(run.metric("post-sts-header-before:headers")["value"]) == [
        "Authorization",
        "X-Amz-Date",
        "X-Amz-Security-Token",
    ]
    assert json.loads(run.metric("volcengine-list-users:headers")["value"]) == [
        "Authorization",
        "Content-Type",
        "X-Content-Sha256",
        "X-Date",
    ]
    # AWS General Reference, "Examples of how to derive a signing key for Signature Version 4".
    assert run.metric("signing-key")["value"] == (
        "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d"
    )
    assert run.metric("date")["value"] == "20150830T123600Z"

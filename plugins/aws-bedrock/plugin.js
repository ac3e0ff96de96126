// AWS Bedrock: month-to-date Bedrock spend from Cost Explorer and token /
// invocation totals from CloudWatch, both signed with SigV4 (ctx.sigv4).
// Cost Explorer bills $0.01 per request: the manifest polls at most hourly.
var PROVIDER = "AWS Bedrock";
var CE_URL = "https://ce.us-east-1.amazonaws.com/";
var MAX_PAGES = 5;

function settings(ctx) { return ctx.provider.settings || {}; }

function profileName(ctx) {
  return settings(ctx).profile || ctx.creds.envValue("AWS_PROFILE") || null;
}

// ~/.aws/credentials (INI): static keys of one profile, or null.
function fromCredentialsFile(ctx) {
  var path = ctx.creds.envValue("AWS_SHARED_CREDENTIALS_FILE") || "~/.aws/credentials";
  if (!ctx.host.fs.exists(path)) return null;
  var text;
  try { text = ctx.host.fs.readText(path); } catch (e) { return null; }
  var want = profileName(ctx) || "default";
  var section = null;
  var found = {};
  var lines = text.split(/\r?\n/);
  for (var i = 0; i < lines.length; i++) {
    var line = lines[i].replace(/[#;].*$/, "").trim();
    if (!line) continue;
    var head = /^\[\s*(?:profile\s+)?([^\]]+?)\s*\]$/.exec(line);
    if (head) { section = head[1]; continue; }
    if (section !== want) continue;
    var kv = /^([A-Za-z_]+)\s*=\s*(.*)$/.exec(line);
    if (kv) found[kv[1].toLowerCase()] = kv[2].trim();
  }
  if (!found.aws_access_key_id || !found.aws_secret_access_key) return null;
  return { accessKeyId: found.aws_access_key_id, secretAccessKey: found.aws_secret_access_key, sessionToken: found.aws_session_token || null, source: "profile " + want };
}

// Static credentials: config settings / apiKey, then the environment, then the credentials file.
function staticCredentials(ctx) {
  var s = settings(ctx);
  var key = ctx.provider.apiKey ? String(ctx.provider.apiKey).trim() : "";
  var id = s.accessKeyId || null;
  var secret = s.secretAccessKey || null;
  if (key) {
    var colon = key.indexOf(":");
    if (colon > 0) { id = id || key.slice(0, colon); secret = secret || key.slice(colon + 1); }
    else id = id || key;
  }
  if (id || secret) {
    secret = secret || ctx.creds.envValue("AWS_SECRET_ACCESS_KEY");
    if (!id || !secret) ctx.util.fail("missing-auth", "Incomplete AWS credentials in the config: set settings.accessKeyId and settings.secretAccessKey (or apiKey = \"<id>:<secret>\").");
    return { accessKeyId: id, secretAccessKey: secret, sessionToken: s.sessionToken || null, source: "config" };
  }
  var envId = ctx.creds.envValue("AWS_ACCESS_KEY_ID");
  var envSecret = ctx.creds.envValue("AWS_SECRET_ACCESS_KEY");
  if (envId && envSecret) return { accessKeyId: envId, secretAccessKey: envSecret, sessionToken: ctx.creds.envValue("AWS_SESSION_TOKEN"), source: "environment" };
  return fromCredentialsFile(ctx);
}

// `aws configure export-credentials` covers SSO, assume-role and process credentials.
function cliCredentials(ctx) {
  var program = ctx.creds.envValue("AWS_CLI_PATH") || "aws";
  var args = ["configure", "export-credentials", "--format", "process"];
  var profile = profileName(ctx);
  if (profile) args.push("--profile", profile);
  var out;
  try {
    out = ctx.host.command.run({ program: program, args: args, timeoutMs: 20000 });
  } catch (e) {
    ctx.util.fail("missing-auth", "The AWS CLI is not available (" + String(e && e.message ? e.message : e).slice(0, 120) + "). Install it, or set AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY.");
  }
  if (out.status !== 0) {
    var err = String(out.stderr || "").trim().split("\n")[0].slice(0, 200);
    if (/sso|expired|token/i.test(err)) {
      ctx.util.fail("credential-denied", "AWS session expired: run `aws sso login" + (profile ? " --profile " + profile : "") + "`. (" + err + ")");
    }
    ctx.util.fail("missing-auth", "`aws configure export-credentials` failed: " + (err || "exit status " + out.status) + ". Run `aws configure` or `aws sso login`.");
  }
  var data = ctx.util.tryParseJson(out.stdout);
  if (!data || !data.AccessKeyId || !data.SecretAccessKey) ctx.util.fail("failed", "`aws configure export-credentials` printed no AccessKeyId/SecretAccessKey.");
  return { accessKeyId: data.AccessKeyId, secretAccessKey: data.SecretAccessKey, sessionToken: data.SessionToken || null, source: "aws cli" };
}

function region(ctx) {
  return ctx.provider.region || ctx.creds.envValue(["AWS_REGION", "AWS_DEFAULT_REGION"]) || "us-east-1";
}

// A signed AWS JSON-protocol call -> parsed body; AWS errors become clear failures.
function awsCall(ctx, creds, o) {
  var body = JSON.stringify(o.payload);
  var signed = ctx.sigv4.sign({
    method: "POST",
    url: o.url,
    headers: { "Content-Type": o.contentType, "X-Amz-Target": o.target, Accept: "application/json" },
    body: body,
    accessKeyId: creds.accessKeyId,
    secretAccessKey: creds.secretAccessKey,
    sessionToken: creds.sessionToken,
    region: o.region,
    service: o.service,
  });
  var resp = ctx.host.http.request({ method: "POST", url: o.url, headers: signed.headers, bodyText: body, timeoutMs: 20000 });
  if (resp.status >= 200 && resp.status < 300) return ctx.util.expectJson(resp, o.name);
  var err = ctx.util.tryParseJson(resp.bodyText) || {};
  var type = ctx.util.text(err.__type || resp.headers["x-amzn-errortype"]).replace(/^.*#/, "").replace(/:.*$/, "");
  var message = ctx.util.text(err.Message || err.message).slice(0, 200);
  if (/ExpiredToken/i.test(type)) {
    var p = profileName(ctx);
    ctx.util.fail("credential-denied", "AWS session expired: run `aws sso login" + (p ? " --profile " + p : "") + "` (or refresh the session token).");
  }
  if (/UnrecognizedClient|InvalidSignature|SignatureDoesNotMatch|InvalidClientTokenId|IncompleteSignature|MissingAuthenticationToken/i.test(type)) {
    ctx.util.fail("credential-denied", "AWS rejected the credentials (" + type + "): check the access key and secret, and the system clock.");
  }
  if (/AccessDenied/i.test(type) || resp.status === 403) {
    ctx.util.fail("credential-denied", "The IAM principal lacks " + o.permission + " (" + (type || "HTTP 403") + ").");
  }
  if (/Throttling|LimitExceeded|TooManyRequests/i.test(type) || resp.status === 429) {
    var wait = ctx.util.retryAfterSec(resp.headers) || 3600;
    ctx.util.fail("rate-limited", o.name + " is throttling requests; retry later.", wait);
  }
  if (/DataUnavailable/i.test(type)) ctx.util.fail("failed", "Cost Explorer has no data for this account yet (enable Cost Explorer in the Billing console; data appears within 24 h).");
  ctx.util.checkResponse(resp, { name: o.name });
  ctx.util.fail("failed", o.name + " error " + (type || "HTTP " + resp.status) + (message ? ": " + message : "") + ".");
}

function costs(ctx, creds) {
  var now = Date.now();
  var start = ctx.calendar.ymd(ctx.calendar.monthStart(now));
  var end = ctx.calendar.ymd(ctx.calendar.startOfDay(now) + ctx.calendar.DAY_MS);
  var byDay = {};
  var unit = "USD";
  var token = null;
  for (var page = 0; page < MAX_PAGES; page++) {
    var payload = {
      TimePeriod: { Start: start, End: end },
      Granularity: "DAILY",
      Metrics: ["UnblendedCost"],
      GroupBy: [{ Type: "DIMENSION", Key: "SERVICE" }],
    };
    if (token) payload.NextPageToken = token;
    var data = awsCall(ctx, creds, {
      url: CE_URL, region: "us-east-1", service: "ce", name: "AWS Cost Explorer",
      contentType: "application/x-amz-json-1.1", target: "AWSInsightsIndexService.GetCostAndUsage",
      permission: "ce:GetCostAndUsage", payload: payload,
    });
    var results = ctx.util.requireField(data, "ResultsByTime", "AWS Cost Explorer");
    if (!Array.isArray(results)) ctx.util.fail("failed", "Unexpected response from AWS Cost Explorer: ResultsByTime is not a list.");
    for (var i = 0; i < results.length; i++) {
      var day = ctx.util.text(results[i].TimePeriod && results[i].TimePeriod.Start);
      var groups = results[i].Groups || [];
      for (var j = 0; j < groups.length; j++) {
        var service = ctx.util.text((groups[j].Keys || [])[0]);
        if (!/bedrock/i.test(service)) continue;
        var m = groups[j].Metrics && groups[j].Metrics.UnblendedCost;
        var amount = m ? ctx.num.of(m.Amount) : null;
        if (amount === null) continue;
        var code = ctx.util.text(m.Unit);
        if (code) unit = code.toUpperCase();
        byDay[day] = (byDay[day] || 0) + amount;
      }
    }
    token = ctx.util.text(data.NextPageToken);
    if (!token) break;
  }
  var total = 0;
  Object.keys(byDay).forEach(function (d) { total += byDay[d]; });
  total = Math.round(total * 1e6) / 1e6; // CE amounts carry float noise; keep micro-dollars
  var todayKey = ctx.calendar.ymd(now);
  var yesterdayKey = ctx.calendar.ymd(now - ctx.calendar.DAY_MS);
  return { total: total, today: byDay[todayKey], yesterday: byDay[yesterdayKey], unit: unit };
}

function tokens(ctx, creds, reg) {
  var now = Date.now();
  var search = function (metric) {
    return "SUM(SEARCH('{AWS/Bedrock,ModelId} MetricName=\"" + metric + "\"', 'Sum', 86400))";
  };
  var sums = { input: 0, output: 0, invocations: 0 };
  var next = null;
  for (var page = 0; page < MAX_PAGES; page++) {
    var payload = {
      StartTime: Math.floor(ctx.calendar.monthStart(now) / 1000),
      EndTime: Math.floor(now / 1000),
      ScanBy: "TimestampAscending",
      MetricDataQueries: [
        { Id: "input", Expression: search("InputTokenCount"), ReturnData: true },
        { Id: "output", Expression: search("OutputTokenCount"), ReturnData: true },
        { Id: "invocations", Expression: search("Invocations"), ReturnData: true },
      ],
    };
    if (next) payload.NextToken = next;
    var data = awsCall(ctx, creds, {
      url: "https://monitoring." + reg + ".amazonaws.com/", region: reg, service: "monitoring", name: "AWS CloudWatch",
      contentType: "application/x-amz-json-1.0", target: "GraniteServiceVersion20100801.GetMetricData",
      permission: "cloudwatch:GetMetricData", payload: payload,
    });
    var results = data.MetricDataResults || [];
    for (var i = 0; i < results.length; i++) {
      var r = results[i];
      if (!(ctx.util.text(r.Id) in sums) || (r.StatusCode && r.StatusCode !== "Complete" && r.StatusCode !== "PartialData")) continue;
      var values = r.Values || [];
      for (var j = 0; j < values.length; j++) sums[r.Id] += ctx.num.of(values[j], 0);
    }
    next = ctx.util.text(data.NextToken);
    if (!next) break;
  }
  return sums;
}

function money(ctx, amount, unit) {
  return amount > 0 && amount < 0.01 ? "<" + ctx.fmt.money(0.01, unit) : ctx.fmt.money(amount, unit);
}

function probe(ctx) {
  var mode = ctx.sourceMode;
  var creds = null;
  if (mode === "api" || mode === "auto") creds = staticCredentials(ctx);
  if (!creds && (mode === "cli" || mode === "auto")) {
    if (mode === "auto" && !profileName(ctx) && !ctx.host.fs.exists("~/.aws/config")) {
      ctx.util.fail("missing-auth", "No AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, settings.accessKeyId/secretAccessKey, or a profile (settings.profile / AWS_PROFILE) for `aws configure export-credentials`.");
    }
    creds = cliCredentials(ctx);
  }
  if (!creds) {
    ctx.util.fail("missing-auth", "No AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or settings.accessKeyId/secretAccessKey, or a [default] profile in ~/.aws/credentials).");
  }
  var source = creds.source === "aws cli" ? "cli" : "api";
  var spend = costs(ctx, creds);
  var metrics = [ctx.line.text({ label: "Spend (month)", value: money(ctx, spend.total, spend.unit), subtitle: "Cost Explorer data lags up to ~24 h" })];
  var budget = Number(settings(ctx).monthlyBudget);
  if (isFinite(budget) && budget > 0) {
    var month = ctx.calendar.month(Date.now());
    metrics.push(ctx.line.progress({
      label: "Budget",
      used: Math.max(0, spend.total),
      limit: budget,
      format: spend.unit === "USD" ? { kind: "dollars" } : { kind: "dollars", currency: spend.unit },
      resetsAt: ctx.util.toIso(month.end),
      periodDurationMs: month.durationMs,
    }));
  }
  if (spend.today !== undefined) metrics.push(ctx.line.text({ label: "Today", value: money(ctx, spend.today, spend.unit), detail: true }));
  if (spend.yesterday !== undefined) metrics.push(ctx.line.text({ label: "Yesterday", value: money(ctx, spend.yesterday, spend.unit), detail: true }));

  var reg = region(ctx);
  var usage = null;
  try {
    usage = tokens(ctx, creds, reg);
  } catch (e) {
    // Token lines are optional: a missing cloudwatch:GetMetricData, an
    // undeclared region or CloudWatch throttling must not hide the spend
    // (Cost Explorer has already answered, and billed the request).
    ctx.host.log.warn("CloudWatch token metrics unavailable in " + reg + ": " + (e && e.message ? e.message : String(e)));
    if (e && e.code === "rate-limited") {
      metrics.push(ctx.line.text({ label: "Tokens (month)", value: "Throttled", subtitle: "CloudWatch is throttling requests; try again later" }));
    }
  }
  if (usage) {
    metrics.push(ctx.line.text({ label: "Input tokens (month)", value: ctx.fmt.tokens(usage.input) }));
    metrics.push(ctx.line.text({ label: "Output tokens (month)", value: ctx.fmt.tokens(usage.output) }));
    metrics.push(ctx.line.text({ label: "Invocations (month)", value: String(Math.round(usage.invocations)), detail: true }));
  }
  return { source: source, metrics: metrics };
}

globalThis.__usagestat_plugin = { id: "aws-bedrock", probe: probe };

import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { checkFlyTomlSchema } from "../../src/preflight/fly-toml-schema.ts";

const infra = resolve(import.meta.dirname, "../../../../infra/fly");

/** Valid configs of the shapes people deploy with flyctl (fly launch output, docs examples, legacy forms flyctl still reads). */
const VALID: Record<string, string> = {
  "fly launch output for a node app": `
app = 'my-remix-app'
primary_region = 'ams'

[build]

[http_service]
  internal_port = 3000
  force_https = true
  auto_stop_machines = 'stop'
  auto_start_machines = true
  min_machines_running = 0
  processes = ['app']

[[vm]]
  memory = '1gb'
  cpu_kind = 'shared'
  cpus = 1
`,
  "a Rails-style app with processes, mounts, statics, release command and http checks": `
app = "shop"
primary_region = "iad"
console_command = "/rails/bin/rails console"
kill_signal = "SIGINT"
kill_timeout = 30
swap_size_mb = 512

[build]
  dockerfile = "Dockerfile"
  build-target = "production"
  [build.args]
    RUBY_VERSION = "3.3.0"
    BUNDLE_JOBS = 4

[deploy]
  release_command = "./bin/rails db:prepare"
  strategy = "bluegreen"
  max_unavailable = 0.33
  wait_timeout = "5m"
  release_command_timeout = "10m"
  [deploy.release_command_vm]
    size = "shared-cpu-2x"
    memory = 2048

[env]
  RAILS_LOG_TO_STDOUT = "enabled"
  WEB_CONCURRENCY = 2
  RAILS_SERVE_STATIC_FILES = true

[processes]
  app = "./bin/rails server"
  worker = "bundle exec sidekiq"

[[mounts]]
  source = "data"
  destination = "/data"
  initial_size = "10gb"
  snapshot_retention = 14
  auto_extend_size_threshold = 80
  auto_extend_size_increment = "1GB"
  auto_extend_size_limit = "50GB"
  processes = ["app"]

[[statics]]
  guest_path = "/rails/public"
  url_prefix = "/"

[http_service]
  internal_port = 3000
  force_https = true
  auto_stop_machines = "suspend"
  auto_start_machines = true
  processes = ["app"]
  [http_service.concurrency]
    type = "requests"
    soft_limit = 200
    hard_limit = 250
  [http_service.http_options]
    h2_backend = true
    [http_service.http_options.response.headers]
      X-Frame-Options = "DENY"
  [[http_service.checks]]
    grace_period = "10s"
    interval = "30s"
    method = "GET"
    timeout = "5s"
    path = "/up"
    protocol = "http"
    tls_skip_verify = false
    [http_service.checks.headers]
      X-Forwarded-Proto = "https"

[[restart]]
  policy = "on-failure"
  retries = 10
  processes = ["worker"]

[[vm]]
  size = "performance-1x"
  processes = ["app"]

[[vm]]
  memory = "512mb"
  processes = ["worker"]

[[metrics]]
  port = 9394
  path = "/metrics"

[[files]]
  guest_path = "/etc/app/config.yml"
  local_path = "config/app.yml"
`,
  "a TCP/UDP service app with ports, checks and concurrency": `
app = "game"

[[services]]
  protocol = "udp"
  internal_port = 5000
  [[services.ports]]
    port = 5000

[[services]]
  protocol = "tcp"
  internal_port = "8080"
  auto_stop_machines = false
  [services.concurrency]
    type = "connections"
    hard_limit = 25
    soft_limit = 20
  [[services.ports]]
    port = "80"
    handlers = ["http"]
    force_https = true
  [[services.ports]]
    port = 443
    handlers = ["tls", "http"]
    [services.ports.tls_options]
      alpn = ["h2", "http/1.1"]
      versions = ["TLSv1.2", "TLSv1.3"]
  [[services.ports]]
    start_port = 10000
    end_port = 10100
    handlers = ["proxy_proto"]
    [services.ports.proxy_proto_options]
      version = "v2"
  [[services.tcp_checks]]
    interval = "15s"
    timeout = "2s"
    grace_period = "1s"
  [[services.http_checks]]
    interval = 10000
    timeout = 2000
    method = "get"
    path = "/healthz"
    protocol = "http"
`,
  "an internal worker with top-level checks and machine checks": `
app = "worker"
primary_region = "fra"

[experimental]
  cmd = "start-worker"
  auto_rollback = true

[checks]
  [checks.alive]
    type = "tcp"
    port = 8080
    interval = "15s"
    timeout = "2s"
    grace_period = "30s"
  [checks.ready]
    type = "http"
    port = 8080
    path = "/ready"
    method = "GET"
    interval = 10000
    timeout = 1000
    processes = ["app"]

[[machine_checks]]
  image = "curlimages/curl"
  entrypoint = ["/bin/sh", "-c"]
  command = ["curl http://[$FLY_TEST_MACHINE_IP]:8080"]

[[vm]]
  size = "shared-cpu-1x"
  memory = 256
  persist_rootfs = "restart"
`,
  "legacy forms flyctl still rewrites": `
app = "old"

[mount]
  source = "data"
  destination = "/data"

[[compute]]
  memory = "1gb"

[[services]]
  internal_port = 8080
  protocol = "tcp"
  concurrency = "20,25"
  [[services.ports]]
    port = 80
    handlers = ["http"]

[[checks]]
  name = "alive"
  type = "tcp"
  port = 8080
`,
  "an image deploy with an env array of tables": `
app = "img"
[build]
  image = "flyio/hellofly:latest"
[[env]]
  A = "1"
[[env]]
  B = "2"
`,
};

describe("checkFlyTomlSchema: valid flyctl configs pass (no false alarms)", () => {
  it.each(["client.fly.toml", "backend.fly.toml"])("the repository's infra/fly/%s", (file) => {
    expect(checkFlyTomlSchema(readFileSync(resolve(infra, file), "utf8"), `infra/fly/${file}`)).toEqual([]);
  });

  it.each(Object.keys(VALID))("%s", (name) => {
    expect(checkFlyTomlSchema(VALID[name]!, "fly.toml")).toEqual([]);
  });

  it.each([
    'kill_timeout = "30s"\n[deploy]\n  wait_timeout = "2m30s"\n  release_command_timeout = "1.5h"\n',
    "kill_timeout = 30\n[deploy]\n  wait_timeout = 300\n",
  ])("Go durations and bare numbers in kill_timeout and [deploy] timeouts: %j", (text) => {
    expect(checkFlyTomlSchema(text, "fly.toml")).toEqual([]);
  });
});

describe("checkFlyTomlSchema: what flyctl would not read", () => {
  it.each<[string, string, { status: string; where: string; message: string; fix: string }]>([
    [
      "a misspelled top-level key",
      'app = "a"\nprimary_regoin = "iad"\n',
      {
        status: "warn",
        where: "f.toml:2",
        message: "f.toml:2: primary_regoin is not a key flyctl reads; did you mean primary_region? (flyctl ignores it on deploy)",
        fix: "rename it to primary_region; `fly config validate --strict` lists keys flyctl does not read",
      },
    ],
    [
      "a misspelled section",
      'app = "a"\n\n[http_servce]\n  internal_port = 3000\n',
      {
        status: "warn",
        where: "f.toml:3",
        message: "f.toml:3: http_servce is not a key flyctl reads; did you mean http_service? (flyctl ignores it on deploy)",
        fix: "rename it to http_service; `fly config validate --strict` lists keys flyctl does not read",
      },
    ],
    [
      "a misspelled key in [http_service]",
      "[http_service]\n  internal_port = 3000\n  force_htps = true\n",
      {
        status: "warn",
        where: "f.toml:3",
        message:
          "f.toml:3: http_service.force_htps is not a key flyctl reads in http_service; did you mean force_https? (flyctl ignores it on deploy)",
        fix: "rename it to force_https; `fly config validate --strict` lists keys flyctl does not read",
      },
    ],
    [
      "an unknown key far from any",
      '[[vm]]\n  size = "shared-cpu-1x"\n  flavour = "x"\n',
      {
        status: "warn",
        where: "f.toml:3",
        message: "f.toml:3: vm[0].flavour is not a key flyctl reads in vm[0] (flyctl ignores it on deploy)",
        fix: "remove it; `fly config validate --strict` lists keys flyctl does not read",
      },
    ],
    [
      "a typo inside [[services.ports]]",
      "[[services]]\n  internal_port = 8080\n  [[services.ports]]\n    prot = 80\n",
      {
        status: "warn",
        where: "f.toml:4",
        message:
          "f.toml:4: services[0].ports[0].prot is not a key flyctl reads in services[0].ports[0]; did you mean port? (flyctl ignores it on deploy)",
        fix: "rename it to port; `fly config validate --strict` lists keys flyctl does not read",
      },
    ],
    [
      "a string for a boolean",
      '[http_service]\n  internal_port = 3000\n  force_https = "yes"\n',
      {
        status: "fail",
        where: "f.toml:3",
        message:
          'f.toml:3: http_service.force_https: Invalid input: expected boolean, received string (seen: "yes"); flyctl cannot read this config',
        fix: "fix http_service.force_https in f.toml (see https://fly.io/docs/reference/configuration/)",
      },
    ],
    [
      "an auto_stop_machines value flyctl refuses",
      '[http_service]\n  internal_port = 3000\n  auto_stop_machines = "sometimes"\n',
      {
        status: "fail",
        where: "f.toml:3",
        message: 'f.toml:3: http_service.auto_stop_machines: Invalid input (seen: "sometimes"); flyctl cannot read this config',
        fix: "fix http_service.auto_stop_machines in f.toml (see https://fly.io/docs/reference/configuration/)",
      },
    ],
    [
      "a non-numeric internal_port",
      '[http_service]\n  internal_port = "web"\n',
      {
        status: "fail",
        where: "f.toml:2",
        message: 'f.toml:2: http_service.internal_port: expected an integer (seen: "web"); flyctl cannot read this config',
        fix: "fix http_service.internal_port in f.toml (see https://fly.io/docs/reference/configuration/)",
      },
    ],
    [
      "a [deploy] timeout Go's time.ParseDuration refuses",
      '[deploy]\n  wait_timeout = "5 minutes"\n',
      {
        status: "fail",
        where: "f.toml:2",
        message:
          'f.toml:2: deploy.wait_timeout: expected a Go duration such as "30s" or "5m0s" (seen: "5 minutes"); flyctl cannot read this config',
        fix: "fix deploy.wait_timeout in f.toml (see https://fly.io/docs/reference/configuration/)",
      },
    ],
    [
      "a kill_timeout string that is not a Go duration",
      'kill_timeout = "30 s"\n',
      {
        status: "fail",
        where: "f.toml:1",
        message: 'f.toml:1: kill_timeout: expected a Go duration such as "30s" or "5m0s" (seen: "30 s"); flyctl cannot read this config',
        fix: "fix kill_timeout in f.toml (see https://fly.io/docs/reference/configuration/)",
      },
    ],
  ])("%s", (_name, text, expected) => {
    const results = checkFlyTomlSchema(text, "f.toml");
    expect(results.map(({ status, where, message, fix }) => ({ status, where, message, fix }))).toEqual([expected]);
  });

  it("reports every problem, in line order, and never an [env] value", () => {
    const text =
      'app = "a"\nregion = "x"\n[env]\n  TOKEN = { nested = "s3cr3t-value" }\n[http_service]\n  internal_port = 3000\n  force_htps = true\n';
    const results = checkFlyTomlSchema(text, "f.toml");
    expect(results.map((r) => [r.status, r.where])).toEqual([
      ["warn", "f.toml:2"],
      ["fail", "f.toml:4"],
      ["warn", "f.toml:7"],
    ]);
    expect(results.map((r) => r.message).join("\n")).not.toContain("s3cr3t");
  });

  it("leaves TOML syntax errors to the fly.toml checks", () => {
    expect(checkFlyTomlSchema("app = \n", "f.toml")).toEqual([]);
  });
});

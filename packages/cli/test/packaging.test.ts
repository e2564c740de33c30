// Proves that the packaging that cannot run here is linted (scripts/lint-packaging.sh passes on
// the checkout and fails on a broken copy), that the ARC_* names it sets are configuration keys
// Arc reads, that start.sh sizes threads from a cgroup CPU quota while leaving what the
// environment or arc.conf sets, and that deploy.sh checks its options and, with --dry-run,
// prints the deployment's commands without running ssh, rsync or docker (fakes on PATH record any call).
import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '@arc/config';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), 'arc-packaging-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
/** The lint's first run installs the Dockerfile linter from npm into a cache directory (seconds). */
const LINT_TIMEOUT_MS = 180_000;

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** This process's environment without ARC_* (a test run exports some, e.g. ARC_TEST_S3_*). */
function environmentWithoutArc(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('ARC_')));
}

function bash(args: readonly string[], env: NodeJS.ProcessEnv = {}): Run {
  const result = spawnSync('bash', args, { cwd: ROOT, env: { ...environmentWithoutArc(), ...env }, encoding: 'utf8', timeout: LINT_TIMEOUT_MS });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('scripts/lint-packaging.sh', { timeout: LINT_TIMEOUT_MS }, () => {
  it('passes on the checkout: every check is ok or skipped saying which tool is missing', () => {
    const result = bash(['scripts/lint-packaging.sh']);
    const lines = result.stdout.trim().split('\n');
    process.stdout.write(`${result.stdout}\n`); // what was verified here, in the test log
    expect(result.code, result.stdout).toBe(0);
    expect(lines.at(-1)).toMatch(/^lint-packaging: \d+ ok, 0 failed, \d+ skipped$/);
    for (const line of lines.slice(0, -1)) expect(line).toMatch(/^(ok {3}\S|skip [^:]+: \S+ is not (installed|supported))/);
    expect(lines.some((line) => line.startsWith('ok   Dockerfile rules'))).toBe(true);
  });

  it('fails on a copy with a broken unit, a root image, an invalid compose file and a shell bug', () => {
    const copy = join(scratch, 'broken');
    mkdirSync(copy);
    for (const file of ['Dockerfile', '.dockerignore', 'docker-compose.yml', 'start.sh', 'deploy.sh', 'deploy', 'scripts']) cpSync(join(ROOT, file), join(copy, file), { recursive: true });
    const edit = (file: string, from: string | RegExp, to: string): void => {
      const text = readFileSync(join(copy, file), 'utf8');
      expect(text).toMatch(from);
      writeFileSync(join(copy, file), text.replace(from, to));
    };
    edit('deploy/arc.service', /^ProtectSystem=strict$/m, 'ProtectSystem=strictt');
    edit('Dockerfile', /^USER arc$/m, '# no USER');
    edit('docker-compose.yml', 'condition: service_healthy', 'condition: service_bogus');
    writeFileSync(join(copy, 'start.sh'), `${readFileSync(join(copy, 'start.sh'), 'utf8')}\necho $undefined_name\n`);
    const result = bash(['scripts/lint-packaging.sh', copy]);
    expect(result.code, result.stdout).toBe(1);
    expect(result.stdout).toContain('FAIL Dockerfile rules: the runtime stage has no USER: it would run as root');
    const unless = (tool: string, check: () => void): void => {
      if (!result.stdout.includes(`${tool} is not installed`)) check();
    };
    unless('systemd-analyze', () => expect(result.stdout).toMatch(/FAIL systemd-analyze verify: .*\n.*strictt/));
    unless('docker-compose', () => expect(result.stdout).toMatch(/FAIL compose config: .*\n(.*\n)*.*service_bogus/));
    unless('shellcheck', () => expect(result.stdout).toMatch(/FAIL shellcheck: .*\n(.*\n)*.*undefined_name/));
  });
});

/** `NAME=value` pairs of the lines of a file that match `line` (its first group is the pair). */
function assignments(text: string, line: RegExp): Record<string, string> {
  return Object.fromEntries([...text.matchAll(line)].map((match) => (match[1] as string).split(/=|: /, 2).map((part) => part.trim().replace(/^"|"$/g, '')) as [string, string]));
}

describe('ARC_* names of the packaging are configuration keys', () => {
  const known = (env: Record<string, string>): void => {
    const config = loadConfig({ env: { ...env, ARC_CONFIG: '/dev/null' } });
    expect(config.warnings).toEqual([]);
  };

  it('in the Dockerfile, the unit and the compose file', () => {
    const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8').replace(/\\\n/g, '\n');
    const dockerEnv = assignments(dockerfile, /^ {4}(ARC_[A-Z0-9_]+=\S+)/gm);
    expect(Object.keys(dockerEnv)).toEqual(['ARC_HOST', 'ARC_PORT', 'ARC_DATA_DIR']);
    known(dockerEnv);
    const unitEnv = assignments(readFileSync(join(ROOT, 'deploy/arc.service'), 'utf8'), /^Environment=(ARC_[A-Z0-9_]+=\S+)$/gm);
    expect(Object.keys(unitEnv)).toEqual(['ARC_CONFIG', 'ARC_DATA_DIR']);
    delete unitEnv.ARC_CONFIG; // the file's name, read by loadConfig itself
    known(unitEnv);
    const compose = readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8');
    const arcService = compose.slice(compose.indexOf('\n  arc:'));
    const composeEnv = Object.fromEntries(Object.keys(assignments(arcService, /^ {6}(ARC_[A-Z0-9_]+: .*)$/gm)).map((name) => [name, name.endsWith('_ENDPOINT') ? 'http://minio:9000' : 'x']));
    expect(Object.keys(composeEnv)).toContain('ARC_STORAGE_S3_SECRET_KEY');
    known({ ...composeEnv, ARC_STORAGE_BACKEND: 'minio' });
  });

  it("in start.sh's thread sizing, with the values it computes", () => {
    const result = bash(['start.sh', 'native', '--no-build', '--dry-run'], { ARC_CONFIG: '/dev/null', ARC_CGROUP_ROOT: join(scratch, 'no-cgroup') });
    expect(result.code, result.stderr).toBe(0);
    const env = assignments(result.stdout, /(ARC_[A-Z0-9_]+=\d+)/g);
    expect(Object.keys(env).sort()).toEqual(['ARC_QUERY_DUCKDB_THREADS', 'ARC_QUERY_THREADS', 'ARC_WORKERS', 'ARC_WRITER_THREADS']);
    const config = loadConfig({ env: { ...env, ARC_CONFIG: '/dev/null' } });
    expect(config.warnings).toEqual([]);
    expect(config.ingest.decoders).toBe(Number(env.ARC_WORKERS));
    expect(config.writer.threads).toBe(Number(env.ARC_WRITER_THREADS));
    expect(config.query.threads).toBe(Number(env.ARC_QUERY_THREADS));
    expect(config.query.duckdbThreads).toBe(Number(env.ARC_QUERY_DUCKDB_THREADS));
  });
});

describe('start.sh thread sizing', () => {
  const cgroup = (name: string, files: Record<string, string>): string => {
    const dir = join(scratch, name);
    for (const [file, text] of Object.entries(files)) {
      mkdirSync(join(dir, file, '..'), { recursive: true });
      writeFileSync(join(dir, file), text);
    }
    return dir;
  };
  const dryRun = (env: Record<string, string>, mode = 'native'): Run => bash(['start.sh', mode, '--no-build', '--dry-run'], { ARC_CONFIG: '/dev/null', ...env });

  it('takes the cgroup v2 quota (cpu.max) when it allows fewer CPUs than nproc', () => {
    const result = dryRun({ ARC_CGROUP_ROOT: cgroup('v2-half', { 'cpu.max': '50000 100000\n' }) });
    expect(result.stderr).toContain('start.sh: 1 CPUs usable');
    expect(result.stdout).toBe('ARC_WORKERS=3 ARC_WRITER_THREADS=1 ARC_QUERY_DUCKDB_THREADS=1 ARC_QUERY_THREADS=1 UV_THREADPOOL_SIZE=16 node packages/cli/dist/main.js serve \n');
  });

  it('rounds a fractional quota up, reads cgroup v1 files, and uses nproc without a quota', () => {
    const cpus = availableParallelism();
    expect(dryRun({ ARC_CGROUP_ROOT: cgroup('v1', { 'cpu/cpu.cfs_quota_us': '150000\n', 'cpu/cpu.cfs_period_us': '100000\n' }) }).stderr).toContain(`start.sh: ${String(Math.min(2, cpus))} CPUs usable`);
    expect(dryRun({ ARC_CGROUP_ROOT: cgroup('v2-max', { 'cpu.max': 'max 100000\n' }) }).stderr).toContain(`start.sh: ${String(cpus)} CPUs usable`);
    expect(dryRun({ ARC_CGROUP_ROOT: cgroup('v1-none', { 'cpu/cpu.cfs_quota_us': '-1\n', 'cpu/cpu.cfs_period_us': '100000\n' }) }).stdout).toContain(`ARC_WORKERS=${String(cpus * 3)} `);
  });

  it('leaves a thread count the environment or arc.conf sets; decoders = 0 in arc.conf is sized', () => {
    const conf = join(scratch, 'threads.conf');
    writeFileSync(conf, '[ingest]\ndecoders = 0 # auto\n\n[writer]\nthreads = 5\n\n[query]\n# threads = 9\n');
    const result = dryRun({ ARC_CGROUP_ROOT: cgroup('v2-one', { 'cpu.max': '100000 100000\n' }), ARC_CONFIG: conf, ARC_QUERY_THREADS: '7' });
    expect(result.stdout).toBe('ARC_WORKERS=3 ARC_QUERY_DUCKDB_THREADS=1 UV_THREADPOOL_SIZE=16 node packages/cli/dist/main.js serve \n');
  });

  it('docker mode runs the image with the data volume and passes ARC_* settings but not host paths', () => {
    const result = dryRun({ ARC_LOG_LEVEL: 'debug', ARC_DATA_DIR: '/host/data', ARC_PORT: '9000' }, 'docker');
    expect(result.code).toBe(0);
    expect(result.stdout).toBe('docker run --rm --name arc --publish 9000:8000 --volume arc-data:/var/lib/arc --stop-timeout 90 --env ARC_LOG_LEVEL arc:latest \n');
  });

  it('refuses an unknown mode or option with exit 2', () => {
    const result = bash(['start.sh', 'podman']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("start.sh: unknown argument 'podman'");
  });
});

describe('deploy.sh', () => {
  /** ssh, rsync, docker and npx that record being called: a dry run must call none of them. */
  const fakeBin = join(scratch, 'bin');
  const calls = join(scratch, 'calls.log');
  mkdirSync(fakeBin, { recursive: true });
  for (const tool of ['ssh', 'rsync', 'docker', 'npx']) {
    writeFileSync(join(fakeBin, tool), `#!/bin/sh\necho "${tool} $*" >> '${calls}'\n`);
    chmodSync(join(fakeBin, tool), 0o755);
  }
  const deploy = (...args: string[]): Run => bash(['deploy.sh', ...args], { PATH: `${fakeBin}:${process.env.PATH ?? ''}` });

  it.each([
    [[], "option '-h <host>' is required"],
    [['-u', 'ops'], "option '-h <host>' is required"],
    [['-h'], "option '-h' needs a value"],
    [['-h', 'db1', '-m', 'kubernetes'], "option '-m' must be native or docker, not 'kubernetes'"],
    [['-h', 'db1', '-t', 'soon'], "'soon' is not a number"],
    [['-h', 'db1', '--force'], "unknown argument '--force'"],
  ])('%j exits 2 naming the problem', (args, message) => {
    const result = deploy(...args);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`deploy.sh: ${message}`);
    expect(result.stderr).toContain("Run './deploy.sh --help' for the options.");
  });

  it('--help shows the usage and the exit codes', () => {
    const result = deploy('--help');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^Usage: \.\/deploy\.sh -h <host>/);
    expect(result.stdout).toContain('Exit codes: 0 deployed and ready; 1 a step failed');
  });

  /** A host played by fakes: ssh runs the script it is fed here, unless it names `refuse`. */
  const fakeHost = (refuse: string): string => {
    const bin = join(scratch, `host-${refuse.replace(/\W+/g, '-')}`);
    mkdirSync(bin, { recursive: true });
    const scripts = {
      ssh: `#!/bin/bash\nscript="$(cat)"\ncase "$script" in *'${refuse}'*) echo "refused: ${refuse}" >&2; exit 1 ;; esac\ncase "$script" in *'health --ready'*) exec bash -c "$script" ;; esac\nexit 0\n`,
      rsync: '#!/bin/sh\nexit 0\n',
      npx: '#!/bin/sh\nexit 0\n',
    };
    for (const [tool, text] of Object.entries(scripts)) {
      writeFileSync(join(bin, tool), text);
      chmodSync(join(bin, tool), 0o755);
    }
    return bin;
  };

  it('exits 1 naming the step that failed on the host', () => {
    const result = bash(['deploy.sh', '-h', 'db1', '-u', 'root'], { PATH: `${fakeHost('systemctl enable arc')}:${process.env.PATH ?? ''}` });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('refused: systemctl enable arc');
    expect(result.stderr).toContain('deploy.sh: failed: installing production dependencies and the service (on db1)');
  });

  it('exits 3 when Arc started but /ready never answered within -t seconds', () => {
    const result = bash(['deploy.sh', '-h', 'db1', '-u', 'root', '-t', '1', '-P', '9'], { PATH: `${fakeHost('nothing is refused')}:${process.env.PATH ?? ''}` });
    expect(result.code, result.stderr).toBe(3);
    expect(result.stderr).toContain('==> waiting up to 1s for db1:9/ready');
    expect(result.stderr).toContain('deploy.sh: Arc started on db1 but is not ready after 1s (see its log)');
  });

  it('--dry-run -m native: builds, copies with rsync, installs the unit through sudo, waits for /ready', () => {
    const result = deploy('-h', 'db1.example', '-u', 'ops', '-m', 'native', '-P', '8080', '--dry-run');
    expect(result.code, result.stderr).toBe(0);
    const out = result.stdout;
    expect(out).toContain('npx tsc -b packages/cli');
    expect(out).toMatch(/^rsync -az --delete .*--rsync-path sudo\\ rsync .*--exclude node_modules .* \.\/ ops@db1\.example:\/opt\/arc\/ $/m);
    expect(out).toContain("ssh -p 22 -o BatchMode=yes ops@db1.example 'sudo bash -euo pipefail -s' <<'SCRIPT'");
    for (const line of ['npm ci --omit=dev --no-audit --no-fund </dev/null', 'install -m 0644 deploy/arc.service /etc/systemd/system/arc.service', 'systemctl enable arc', 'systemctl restart arc']) expect(out).toContain(`\n${line}\n`);
    expect(out).toContain('/opt/arc/arc health --ready --url http://127.0.0.1:8080 </dev/null || exit 3');
    expect(existsSync(calls), 'a dry run called ssh, rsync, docker or npx').toBe(false);
  });

  it('--dry-run -m docker: builds the image, sends it with docker save | docker load, starts compose, waits for /ready', () => {
    const result = deploy('-h', 'db1.example', '-u', 'root', '-m', 'docker', '-n');
    expect(result.code, result.stderr).toBe(0);
    const out = result.stdout;
    expect(out).toMatch(/^docker build --tag arc:\d+\.\d+\.\d+ \. $/m);
    expect(out).toMatch(/^docker save arc:\S+ \| gzip \| ssh -p 22 -o BatchMode=yes root@db1\.example 'gunzip \| docker load'$/m);
    expect(out).toContain('docker-compose.yml root@db1.example:/opt/arc/');
    expect(out).toMatch(/up -d --no-build <\/dev\/null\n/);
    expect(out).toContain('exec -T arc node /app/packages/cli/dist/main.js health --ready </dev/null || exit 3');
    expect(existsSync(calls), 'a dry run called ssh, rsync, docker or npx').toBe(false);
  });
});

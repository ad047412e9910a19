import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { createServer } from 'node:net'

/** A redis-server this test file started, on a free port of 127.0.0.1. */
export interface RedisServer {
  readonly port: number
  readonly url: string
  /** Stop it (SIGTERM) and wait for the process to exit. */
  stop(): Promise<void>
  /** Start it again on the same port (after `stop`). */
  restart(): Promise<void>
}

/**
 * Start a real redis-server for this file: no persistence, loopback only. Fails, never
 * skips, when redis-server is not installed: `.ci/run` installs it (scripts/install-redis.sh),
 * and a test that silently skipped would let replay protection ship untested.
 */
export async function startRedis(): Promise<RedisServer> {
  const binary = redisBinary()
  const port = await freePort()
  let child: ChildProcess | null = await launch(binary, port)
  // If the test process ends without afterAll (a crash), the server goes with it.
  process.once('exit', () => child?.kill('SIGKILL'))
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    async stop() {
      if (child === null) return
      const exiting = child
      child = null
      await new Promise<void>((resolve) => {
        if (exiting.exitCode !== null || exiting.signalCode !== null) return resolve()
        exiting.once('exit', () => resolve())
        exiting.kill('SIGTERM')
      })
    },
    async restart() {
      if (child === null) child = await launch(binary, port)
    },
  }
}

function redisBinary(): string {
  try {
    execFileSync('redis-server', ['--version'], { stdio: 'pipe' })
    return 'redis-server'
  } catch {
    throw new Error(
      'redis-server is not installed: the replay tests run against a real Redis. Install it ' +
        'with `sudo scripts/install-redis.sh` (Debian/Ubuntu: apt-get install redis-server), ' +
        'as .ci/run does.',
    )
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer()
    probe.once('error', reject)
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number }
      probe.close(() => resolve(port))
    })
  })
}

/** Spawn redis-server and wait for "Ready to accept connections" (at most 10 s). */
function launch(binary: string, port: number): Promise<ChildProcess> {
  const child = spawn(
    binary,
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--daemonize',
      'no',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  )
  return new Promise((resolve, reject) => {
    let output = ''
    const timer = setTimeout(() => fail(new Error('redis-server did not start in 10 s')), 10_000)
    const fail = (err: Error) => {
      clearTimeout(timer)
      child.kill('SIGKILL')
      reject(new Error(`${err.message}\n${output}`))
    }
    child.once('error', fail)
    child.once('exit', (code) => fail(new Error(`redis-server exited with ${code}`)))
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8')
      if (output.includes('Ready to accept connections')) {
        clearTimeout(timer)
        child.removeAllListeners('exit')
        child.removeAllListeners('error')
        child.stdout?.removeAllListeners('data')
        child.stdout?.resume()
        resolve(child)
      }
    })
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')))
  })
}

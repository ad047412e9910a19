import type { ReplayStore } from './core/replay.js'

/**
 * `SET key 1 NX PX ttl` in both spellings node-redis has had: v5 and v6 read `condition` and
 * `expiration` (and, without them, the deprecated `NX` and `PX`); v4 reads only `NX` and
 * `PX`, and given the new spelling alone it sent a plain `SET`, always 'OK', never expiring.
 */
export interface RedisSetOnce {
  condition: 'NX'
  expiration: { type: 'PX'; value: number }
  NX: true
  PX: number
}

/**
 * The part of a node-redis client (the `redis` package, v5 or v6) the store uses. safebody
 * does not import `redis`: the application creates, connects and closes its own client.
 */
export interface RedisSetClient {
  set(key: string, value: string, options: RedisSetOnce): PromiseLike<unknown>
  /** Used to free a key a late `SET` took after its request was refused (503). */
  del?(key: string): PromiseLike<unknown>
  /** node-redis's flag: false while the connection is down. */
  readonly isReady?: boolean
}

/** Options for `redisReplayStore`. */
export interface RedisReplayStoreOptions {
  /** Prepended to every key. Default `'safebody:replay:'`. */
  prefix?: string
}

/**
 * A replay store shared by every process that uses the same Redis: one `SET key 1 NX PX ttl`
 * per delivery, so of two identical deliveries arriving at once on two instances exactly one
 * is first. While the client is not ready (reconnecting), it fails at once instead of
 * queueing, and the route's `onStoreError` decides.
 *
 * @example
 * const redis = await createClient({ url: process.env.REDIS_URL }).connect()
 * integrity: { preset: 'stripe', secret, replay: { store: redisReplayStore(redis) } }
 */
export function redisReplayStore(
  client: RedisSetClient,
  options: RedisReplayStoreOptions = {},
): ReplayStore {
  if (typeof client !== 'object' || client === null || typeof client.set !== 'function') {
    throw new TypeError('safebody: redisReplayStore needs a node-redis client')
  }
  const prefix = options.prefix ?? 'safebody:replay:'
  if (typeof prefix !== 'string') {
    throw new TypeError('safebody: redisReplayStore: prefix must be a string')
  }
  return {
    async claim(key, ttl) {
      if (client.isReady === false) throw new Error('the Redis client is not ready')
      const reply = await client.set(prefix + key, '1', {
        condition: 'NX',
        expiration: { type: 'PX', value: ttl },
        NX: true,
        PX: ttl,
      })
      return reply === 'OK'
    },
    // A SET that Redis ran after storeTimeout (paused, slow) took the key of a delivery that
    // was refused with 503: free it for the sender's retry.
    release(key) {
      return client.del?.(prefix + key)
    },
  }
}

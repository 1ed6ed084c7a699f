// Peer benchmark for sync_bench.sh: the same ~1 KB records that Satchel
// syncs, replicated between two Hypercores (v10) on disk, over a TCP
// socket on 127.0.0.1, each core in its own process, as Satchel's sender
// and receiver are.
//
//	node hypercore_bench.js serve DIR COUNT
//		fills a core at DIR with COUNT blocks, listens on 127.0.0.1 (a
//		free port) and prints "port=P key=HEX fill_s=S" on one line;
//		then replicates to whoever connects until it is killed.
//	node hypercore_bench.js pull PORT KEY DIR COUNT [linear|random]
//		makes an empty core for KEY at DIR, connects, and prints
//		"secs=S blocks=N bytes=B maxrss_kb=K" once every block is
//		downloaded (contiguousLength == COUNT), or fails. linear (the
//		default) asks for the blocks in order, as a full sync wants
//		them: core.download({ start: 0, end: COUNT, linear: true });
//		random is download()'s default order, about twice as slow here.
//
// hypercore is not a dependency of Satchel: sync_bench.sh installs it into
// a throw-away directory and points NODE_PATH there. The time is taken in
// the process from connecting until the last block is stored, so node's own
// start-up and module loading are not counted against Hypercore.
'use strict'

const net = require('net')
const { performance } = require('perf_hooks')
const Hypercore = require('hypercore')

// The record of note i: the fields `fill` writes, as JSON (~1.1 KB).
function record (i) {
  return Buffer.from(JSON.stringify({
    kind: 'note',
    student: '9396a1a9c77ef180988aa18d946d0553',
    date: '2026-10-01',
    strengths: 'x'.repeat(1023),
    obstacle: 'o',
    action: 'fill ' + i
  }))
}

function die (msg) {
  process.stderr.write('hypercore_bench: ' + msg + '\n')
  process.exit(1)
}

async function serve (dir, count) {
  const core = new Hypercore(dir)
  await core.ready()
  const t0 = performance.now()
  for (let i = 0; i < count; i += 1000) {
    const batch = []
    for (let j = i; j < Math.min(count, i + 1000); j++) batch.push(record(j))
    await core.append(batch)
  }
  const fillS = (performance.now() - t0) / 1000
  const server = net.createServer((socket) => {
    const s = core.replicate(false)
    socket.on('error', () => {})
    s.on('error', () => {})
    socket.pipe(s).pipe(socket)
  })
  server.listen(0, '127.0.0.1', () => {
    process.stdout.write(`port=${server.address().port} key=` +
      `${core.key.toString('hex')} fill_s=${fillS.toFixed(3)} ` +
      `bytes=${core.byteLength}\n`)
  })
  process.on('SIGTERM', async () => {
    server.close()
    await core.close()
    process.exit(0)
  })
}

async function pull (port, keyHex, dir, count, order) {
  const core = new Hypercore(dir, Buffer.from(keyHex, 'hex'))
  await core.ready()
  const t0 = performance.now()
  const socket = net.connect(port, '127.0.0.1')
  const s = core.replicate(true)
  socket.on('error', (e) => die('socket: ' + e.message))
  s.on('error', () => {})
  socket.pipe(s).pipe(socket)
  await core.update({ wait: true })
  if (core.length < count) die(`the remote core has ${core.length} blocks, not ${count}`)
  await core.download({ start: 0, end: count, linear: order !== 'random' }).done()
  const secs = (performance.now() - t0) / 1000
  if (core.contiguousLength < count) {
    die(`only ${core.contiguousLength} of ${count} blocks arrived`)
  }
  const last = JSON.parse((await core.get(count - 1)).toString())
  if (last.action !== 'fill ' + (count - 1)) die('the last block is not the last record')
  process.stdout.write(`secs=${secs.toFixed(3)} blocks=${core.contiguousLength} ` +
    `bytes=${core.byteLength} maxrss_kb=${process.resourceUsage().maxRSS}\n`)
  socket.destroy()
  await core.close()
  process.exit(0)
}

const [mode, ...args] = process.argv.slice(2)
const run = mode === 'serve' && args.length === 2
  ? serve(args[0], Number(args[1]))
  : mode === 'pull' && (args.length === 4 || args.length === 5)
    ? pull(Number(args[0]), args[1], args[2], Number(args[3]), args[4])
    : die('usage: hypercore_bench.js serve DIR COUNT | ' +
      'pull PORT KEY DIR COUNT [linear|random]')
Promise.resolve(run).catch((e) => die(e.stack || String(e)))

// Peer benchmark for sync_bench.sh: the same ~1 KB records that Satchel
// syncs, replicated between two PouchDB databases on disk (pouchdb-node,
// LevelDB underneath).
//
//	node pouchdb_bench.js fill DIR COUNT
//		puts COUNT records into the database DIR/source (bulkDocs, 1,000
//		a call) and prints "fill_s=S".
//	node pouchdb_bench.js serve DIR
//		serves DIR's databases over HTTP on 127.0.0.1 (a free port) with
//		express-pouchdb, as CouchDB would, and prints "port=P" on one
//		line; then serves until it is killed.
//	node pouchdb_bench.js pull SOURCE DIR COUNT
//		replicates SOURCE (a URL such as http://127.0.0.1:P/source, or
//		a database directory) into a new database DIR with
//		PouchDB.replicate(SOURCE, DIR) and prints
//		"secs=S docs=N maxrss_kb=K"; fails unless all COUNT arrived.
//
// pouchdb-node and express-pouchdb are not dependencies of Satchel:
// sync_bench.sh installs them into a throw-away directory and points
// NODE_PATH there. The time is taken in the process from the start of the
// replication until it resolves, so node's own start-up and module loading
// are not counted against PouchDB.
'use strict'

const fs = require('fs')
const http = require('http')
const path = require('path')
const { performance } = require('perf_hooks')
const PouchDB = require('pouchdb-node')

// The record of note i: the fields `fill` writes (~1.1 KB as JSON).
function record (i) {
  return {
    _id: 'note-' + String(i).padStart(8, '0'),
    kind: 'note',
    student: '9396a1a9c77ef180988aa18d946d0553',
    date: '2026-10-01',
    strengths: 'x'.repeat(1023),
    obstacle: 'o',
    action: 'fill ' + i
  }
}

function die (msg) {
  process.stderr.write('pouchdb_bench: ' + msg + '\n')
  process.exit(1)
}

async function fill (dir, count) {
  const db = new PouchDB(path.join(dir, 'source'))
  const t0 = performance.now()
  for (let i = 0; i < count; i += 1000) {
    const docs = []
    for (let j = i; j < Math.min(count, i + 1000); j++) docs.push(record(j))
    const res = await db.bulkDocs(docs)
    for (const r of res) if (r.error) die('bulkDocs: ' + JSON.stringify(r))
  }
  const fillS = (performance.now() - t0) / 1000
  const info = await db.info()
  if (info.doc_count !== count) die(`source holds ${info.doc_count} docs, not ${count}`)
  await db.close()
  process.stdout.write(`fill_s=${fillS.toFixed(3)}\n`)
}

function serve (dir) {
  const P = PouchDB.defaults({ prefix: dir + path.sep })
  const app = require('express-pouchdb')(P, {
    mode: 'minimumForPouchDB',
    configPath: path.join(dir, 'config.json'),
    logPath: path.join(dir, 'log.txt')
  })
  const server = http.createServer(app)
  server.listen(0, '127.0.0.1', () => {
    process.stdout.write(`port=${server.address().port}\n`)
  })
  process.on('SIGTERM', () => process.exit(0))
}

async function pull (source, dir, count) {
  if (fs.existsSync(dir)) die(dir + ' exists: the replica must start empty')
  const db = new PouchDB(dir)
  await db.info()		// open it before the clock starts
  const t0 = performance.now()
  const res = await PouchDB.replicate(source, db)
  const secs = (performance.now() - t0) / 1000
  const info = await db.info()
  if (!res.ok || info.doc_count !== count) {
    die(`replicated ${info.doc_count} of ${count} docs` +
      (res.errors && res.errors.length ? ': ' + JSON.stringify(res.errors[0]) : ''))
  }
  const last = await db.get('note-' + String(count - 1).padStart(8, '0'))
  if (last.action !== 'fill ' + (count - 1)) die('the last doc is not the last record')
  process.stdout.write(`secs=${secs.toFixed(3)} docs=${info.doc_count} ` +
    `maxrss_kb=${process.resourceUsage().maxRSS}\n`)
  await db.close()
  process.exit(0)
}

const [mode, ...args] = process.argv.slice(2)
const run = mode === 'fill' && args.length === 2
  ? fill(args[0], Number(args[1]))
  : mode === 'serve' && args.length === 1
    ? serve(args[0])
    : mode === 'pull' && args.length === 3
      ? pull(args[0], args[1], Number(args[2]))
      : die('usage: pouchdb_bench.js fill DIR COUNT | serve DIR | ' +
        'pull SOURCE DIR COUNT')
Promise.resolve(run).catch((e) => die(e.stack || String(e)))

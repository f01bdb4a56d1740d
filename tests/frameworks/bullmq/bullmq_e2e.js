// BullMQ end to end (tests/frameworks_test.go): a Queue, a Worker, a
// FlowProducer and QueueEvents over schemaproxy's database 1; jobs of
// every kind are added, awaited with waitUntilFinished and checked.
// Usage: node bullmq_e2e.js PORT N
'use strict';
const { Queue, Worker, FlowProducer, QueueEvents } = require('bullmq');

const port = Number(process.argv[2]);
const n = Number(process.argv[3]);
const connection = { host: '127.0.0.1', port, db: 1, maxRetriesPerRequest: null };

async function main() {
  const name = 'e2e';
  const queue = new Queue(name, { connection });
  const events = new QueueEvents(name, { connection });
  await events.waitUntilReady();
  const worker = new Worker(name, async (job) => {
    switch (job.name) {
      case 'add':
        return job.data.a + job.data.b;
      case 'flaky':
        if (job.attemptsMade < 2) throw new Error(`flaky run ${job.attemptsMade + 1}`);
        return job.attemptsMade + 1;
      case 'fail':
        throw new Error('boom');
      case 'parent': {
        const values = await job.getChildrenValues();
        return Object.values(values).reduce((a, b) => a + b, 0);
      }
      default:
        throw new Error(`unknown job ${job.name}`);
    }
  }, { connection, concurrency: 5 });

  const problems = [];
  const adds = await queue.addBulk([...Array(n).keys()].map((i) => ({ name: 'add', data: { a: i, b: i } })));
  const flaky = await queue.add('flaky', {}, { attempts: 3, backoff: { type: 'fixed', delay: 100 } });
  const fail = await queue.add('fail', {}, { attempts: 1 });
  const delayed = await queue.add('add', { a: 20, b: 22 }, { delay: 1000 });
  const urgent = await queue.add('add', { a: 1, b: 1 }, { priority: 1 });
  const flow = await new FlowProducer({ connection }).add({
    name: 'parent', queueName: name,
    children: [1, 2, 3].map((i) => ({ name: 'add', queueName: name, data: { a: i, b: i } })),
  });

  for (const [i, job] of adds.entries()) {
    const got = await job.waitUntilFinished(events, 60000);
    if (got !== 2 * i) problems.push(`add ${i}: ${got}`);
  }
  if ((await flaky.waitUntilFinished(events, 60000)) !== 3) problems.push('flaky did not return 3');
  try {
    await fail.waitUntilFinished(events, 60000);
    problems.push('fail succeeded');
  } catch (e) {
    if (!String(e.message).includes('boom')) problems.push(`fail: ${e.message}`);
  }
  if ((await delayed.waitUntilFinished(events, 60000)) !== 42) problems.push('delayed did not return 42');
  const d = await queue.getJob(delayed.id);
  if (d.processedOn - d.timestamp < 1000) problems.push(`delayed ran after ${d.processedOn - d.timestamp} ms`);
  if ((await urgent.waitUntilFinished(events, 60000)) !== 2) problems.push('prioritized job did not return 2');
  if ((await flow.job.waitUntilFinished(events, 60000)) !== 12) problems.push('flow parent did not return 12');
  const f = await queue.getJob(fail.id);
  if ((await f.getState()) !== 'failed' || f.failedReason !== 'boom') problems.push(`failed job: ${await f.getState()} ${f.failedReason}`);
  const fl = await queue.getJob(flaky.id);
  if (fl.attemptsMade !== 3) problems.push(`flaky attempts ${fl.attemptsMade}`);
  const counts = await queue.getJobCounts('completed', 'failed', 'waiting', 'active', 'delayed', 'prioritized');
  const want = { completed: n + 7, failed: 1, waiting: 0, active: 0, delayed: 0, prioritized: 0 };
  for (const k of Object.keys(want)) {
    if (counts[k] !== want[k]) problems.push(`${k}: ${counts[k]}, want ${want[k]}`);
  }
  await worker.close();
  await events.close();
  await queue.close();
  if (problems.length) {
    console.log(problems.join('\n'));
    process.exit(1);
  }
  console.log(`ok ${n + 8}`);
  process.exit(0);
}

main().catch((e) => { console.log(e.stack || String(e)); process.exit(1); });

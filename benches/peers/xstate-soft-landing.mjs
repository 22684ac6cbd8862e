// The soft-landing-sz-to-hk workflow (workflows/soft-landing-sz-to-hk.yaml) written for XState v5,
// and the same lifecycle as softland's engine benchmark (crates/workflow/benches/engine.rs):
// submit, OFDS nomination, InvestHK screening, HKSTP and InvestHK reviews in parallel, the
// licence choice, the HKMA referral and a 2-of-3 joint decision.
//
// Same rules as the YAML: each action only by the assigned agency, four-eyes between screening
// and set-up review, 2 of 3 seats decide, a rejection in either parallel branch ends the
// application. Not done here (softland's engine does them in its figure): JSON Schema
// validation of the form and of action inputs, business-day due dates, and the audit event list.
//
// Run: node benches/peers/xstate-soft-landing.mjs [seconds] — prints one JSON line. The machine
// never changes the form, so every lifecycle shares one parsed copy (as criterion's setup does).

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { assign, createActor, setup } from 'xstate';

const by = (agency) => ({ event }) => event.agency === agency;
const withReason = (agency) => ({ event }) =>
  event.agency === agency && typeof event.reason === 'string' && event.reason.length >= 5;

const machine = setup({
  guards: {
    ofds: by('ofds'),
    investhk: by('investhk'),
    hkstp: by('hkstp'),
    hkma: by('hkma'),
    applicant: by('applicant'),
    ofdsReason: withReason('ofds'),
    investhkReason: withReason('investhk'),
    hkstpReason: withReason('hkstp'),
    hkmaReason: withReason('hkma'),
    investhkQuestion: ({ event }) =>
      event.agency === 'investhk' && typeof event.question === 'string' && event.question.length >= 5,
    hkstpQuestion: ({ event }) =>
      event.agency === 'hkstp' && typeof event.question === 'string' && event.question.length >= 5,
    // four-eyes: the set-up review must not be cleared by whoever screened eligibility
    clearsIndependently: ({ context, event }) =>
      event.agency === 'investhk' && event.person !== context.screenedBy,
    needsLicence: ({ context }) =>
      context.data.licensing.regulated_activities.some(
        (a) => a === 'stored_value_facility' || a === 'virtual_bank',
      ),
    seatFree: ({ context, event }) =>
      ['investhk', 'hkstp', 'ofds'].includes(event.agency) && !(event.agency in context.seats),
    secondApproval: ({ context, event }) =>
      ['investhk', 'hkstp', 'ofds'].includes(event.agency) &&
      !(event.agency in context.seats) &&
      Object.values(context.seats).filter((v) => v === 'approve').length === 1,
    secondRejection: ({ context, event }) =>
      ['investhk', 'hkstp', 'ofds'].includes(event.agency) &&
      !(event.agency in context.seats) &&
      Object.values(context.seats).filter((v) => v === 'reject').length === 1,
  },
  actions: {
    rememberScreener: assign({ screenedBy: ({ event }) => event.person }),
    vote: assign({
      seats: ({ context, event }) => ({
        ...context.seats,
        [event.agency]: event.type === 'APPROVE' ? 'approve' : 'reject',
      }),
    }),
  },
}).createMachine({
  id: 'soft-landing-sz-to-hk',
  context: ({ input }) => ({ data: input.data, screenedBy: null, seats: {} }),
  initial: 'ofds_nomination',
  states: {
    ofds_nomination: {
      on: {
        NOMINATE: { guard: 'ofds', target: 'eligibility_screening' },
        DECLINE: { guard: 'ofdsReason', target: 'rejected' },
      },
    },
    eligibility_screening: {
      on: {
        ELIGIBLE: { guard: 'investhk', target: 'hong_kong_reviews', actions: 'rememberScreener' },
        REQUEST_INFO: { guard: 'investhkQuestion', target: 'eligibility_information' },
        REJECT: { guard: 'investhkReason', target: 'rejected' },
      },
    },
    eligibility_information: {
      on: { ANSWER: { guard: 'applicant', target: 'eligibility_screening' } },
    },
    hong_kong_reviews: {
      type: 'parallel',
      onDone: 'licence_check',
      states: {
        incubation: {
          initial: 'hkstp_review',
          states: {
            hkstp_review: {
              on: {
                ADMIT: { guard: 'hkstp', target: 'incubation_done' },
                REQUEST_INFO: { guard: 'hkstpQuestion', target: 'hkstp_information' },
                REJECT: { guard: 'hkstpReason', target: '#rejected' },
              },
            },
            hkstp_information: {
              on: { ANSWER: { guard: 'applicant', target: 'hkstp_review' } },
            },
            incubation_done: { type: 'final' },
          },
        },
        business_setup: {
          initial: 'investhk_setup_review',
          states: {
            investhk_setup_review: {
              on: {
                CLEAR: { guard: 'clearsIndependently', target: 'setup_done' },
                REJECT: { guard: 'investhkReason', target: '#rejected' },
              },
            },
            setup_done: { type: 'final' },
          },
        },
      },
    },
    licence_check: {
      always: [{ guard: 'needsLicence', target: 'hkma_sandbox_referral' }, { target: 'joint_decision' }],
    },
    hkma_sandbox_referral: {
      on: {
        ADMIT_TO_SANDBOX: { guard: 'hkma', target: 'joint_decision' },
        DECLINE: { guard: 'hkmaReason', target: 'rejected' },
      },
    },
    joint_decision: {
      on: {
        APPROVE: [
          { guard: 'secondApproval', target: 'approved', actions: 'vote' },
          { guard: 'seatFree', actions: 'vote' },
        ],
        REJECT: [
          { guard: 'secondRejection', target: 'rejected', actions: 'vote' },
          { guard: 'seatFree', actions: 'vote' },
        ],
      },
    },
    approved: { type: 'final', output: { outcome: 'approved' } },
    rejected: { id: 'rejected', type: 'final' },
    lapsed: { type: 'final' },
  },
  output: ({ context }) => ({ seats: context.seats }),
});

const steps = [
  { type: 'NOMINATE', agency: 'ofds', person: 'chen' },
  { type: 'ELIGIBLE', agency: 'investhk', person: 'amy' },
  { type: 'ADMIT', agency: 'hkstp', person: 'ben' },
  { type: 'CLEAR', agency: 'investhk', person: 'carl' },
  { type: 'ADMIT_TO_SANDBOX', agency: 'hkma', person: 'dora' },
  { type: 'APPROVE', agency: 'investhk', person: 'amy' },
  { type: 'APPROVE', agency: 'ofds', person: 'chen' },
];

function lifecycle(data) {
  const actor = createActor(machine, { input: { data } }).start();
  for (const step of steps) actor.send(step);
  const snap = actor.getSnapshot();
  if (snap.status !== 'done' || snap.value !== 'approved') {
    throw new Error(`lifecycle ended in ${JSON.stringify(snap.value)} (${snap.status})`);
  }
  return snap;
}

const root = fileURLToPath(new URL('../..', import.meta.url));
const example = JSON.parse(readFileSync(`${root}/workflows/examples/soft-landing-sz-to-hk.json`, 'utf8'));
const seconds = Number(process.argv[2] ?? 3);

// warm up the JIT, then measure
for (let i = 0; i < 5000; i++) lifecycle(example);
let n = 0;
const start = process.hrtime.bigint();
const until = start + BigInt(Math.round(seconds * 1e9));
let now = start;
while (now < until) {
  for (let i = 0; i < 500; i++) lifecycle(example);
  n += 500;
  now = process.hrtime.bigint();
}
const elapsed = Number(now - start) / 1e9;
console.log(
  JSON.stringify({
    engine: `xstate ${JSON.parse(readFileSync(new URL('./node_modules/xstate/package.json', import.meta.url), 'utf8')).version}`,
    node: process.version,
    lifecycles: n,
    seconds: elapsed,
    lifecycle_us: (elapsed / n) * 1e6,
    lifecycles_per_second: n / elapsed,
  }),
);

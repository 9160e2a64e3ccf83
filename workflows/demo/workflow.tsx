/** @jsxImportSource smithers-orchestrator */
/**
 * Demo Smithers workflow (template `demo`) for Fabrik Mission Control.
 *
 * Runs with no API keys: every task is driven by a deterministic mock agent that
 * sleeps DEMO_TASK_MS milliseconds and returns a structured report. The run pauses at
 * a human gate (`smithers run` exits 3); `smithers approve` + `smithers resume`
 * finishes it (exit 0), `smithers deny` + `smithers resume` fails it (exit 1).
 *
 * Pinned to smithers-orchestrator 0.5.0 (resolved from the repository's node_modules,
 * relative to this file, so the process cwd may be anywhere).
 *
 * Env:
 *   SMITHERS_DB_PATH  run database (default ./.smithers/state.db, relative to cwd)
 *   DEMO_TASK_MS      duration of each implementation / review task (default 2500)
 */
import { mkdirSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { createSmithers, Parallel, Sequence } from "smithers-orchestrator";
import { z } from "zod";

// ---------------------------------------------------------------------------
// Database location: must be decided before createSmithers() opens it.

const DB_PATH = resolve(process.cwd(), process.env.SMITHERS_DB_PATH || "./.smithers/state.db");
mkdirSync(dirname(DB_PATH), { recursive: true });

function taskMs(): number {
  const raw = Number(process.env.DEMO_TASK_MS ?? "2500");
  return Number.isFinite(raw) && raw >= 0 ? Math.floor(raw) : 2500;
}

// ---------------------------------------------------------------------------
// Output schemas → SQLite tables (schema key camelCase → table snake_case;
// field camelCase → column snake_case; arrays stored as JSON TEXT, numbers and
// booleans as INTEGER; every table also has run_id, node_id, iteration).

const taskReport = z.object({
  v: z.number(),
  taskId: z.string(),
  status: z.enum(["done", "blocked", "failed"]),
  work: z.array(z.string()),
  files: z.array(z.string()),
  tests: z.array(z.string()),
  issues: z.array(z.string()),
  next: z.array(z.string()),
  model: z.string(),
  inputTokens: z.number(),
  outputTokens: z.number(),
});

const reviewReport = z.object({
  reviewer: z.string(),
  approved: z.boolean(),
  summary: z.string(),
  issues: z.array(z.string()),
  model: z.string(),
  inputTokens: z.number(),
  outputTokens: z.number(),
});

const humanGate = z.object({
  approved: z.boolean(),
  summary: z.string(),
  decidedBy: z.string().nullable(),
  note: z.string().nullable(),
});

const { Workflow, Task, smithers, db } = createSmithers(
  { taskReport, reviewReport, humanGate },
  { dbPath: DB_PATH },
);

// ---------------------------------------------------------------------------
// Mock agent: the shape smithers 0.5.0 calls is `agent.generate({prompt, ...})`
// returning an object with `output` (used as the structured result) and `text`
// (stored as _smithers_attempts.response_text). `usage` is ignored by 0.5.0.

const MODEL = "mock-demo-1";

function log(line: string) {
  process.stdout.write(`[demo] ${line}\n`);
}

function sleep(ms: number) {
  return new Promise<void>((r) => setTimeout(r, ms));
}

/** Deterministic pseudo token counts so the dashboard shows plausible numbers. */
function tokens(id: string): { inputTokens: number; outputTokens: number } {
  let h = 2166136261;
  for (const c of id) h = Math.imul(h ^ c.charCodeAt(0), 16777619) >>> 0;
  return { inputTokens: 1200 + (h % 2800), outputTokens: 300 + ((h >>> 12) % 900) };
}

type Usage = { inputTokens: number; outputTokens: number };

function mockAgent(nodeId: string, build: (usage: Usage) => Record<string, unknown>, ms: () => number) {
  return {
    id: `mock:${nodeId}`,
    async generate(_args: { prompt?: string }) {
      log(`${nodeId}: started`);
      await sleep(ms());
      const usage = tokens(nodeId);
      const output = build(usage);
      log("inputTokens" in output ? `${nodeId}: done (${usage.inputTokens} in / ${usage.outputTokens} out tokens)` : `${nodeId}: done`);
      return {
        text: JSON.stringify(output),
        output,
        usage: { inputTokens: usage.inputTokens, outputTokens: usage.outputTokens, totalTokens: usage.inputTokens + usage.outputTokens },
        finishReason: "stop",
      };
    },
  } as any;
}

// ---------------------------------------------------------------------------
// Plan

type Step = { id: string; title: string; work: string[]; files: string[]; tests: string[]; next: string[] };

const STEPS: Step[] = [
  { id: "plan", title: "Plan the change", work: ["Read the spec and split it into tasks", "Chose a store-first ordering"], files: ["specs/todo-app.todo.json"], tests: [], next: ["scaffold"] },
  { id: "scaffold", title: "Scaffold the project", work: ["Created crate layout and CI skeleton"], files: ["Cargo.toml", "src/lib.rs", ".github/workflows/ci.yml"], tests: ["cargo check"], next: ["impl-api"] },
  { id: "impl-api", title: "Implement the HTTP API", work: ["Added CRUD handlers for todos", "Validated request bodies"], files: ["src/api.rs", "src/routes.rs"], tests: ["api::tests::create_todo"], next: ["impl-store"] },
  { id: "impl-store", title: "Implement the store", work: ["SQLite-backed repository with migrations"], files: ["src/store.rs", "migrations/0001_init.sql"], tests: ["store::tests::roundtrip"], next: ["impl-ui"] },
  { id: "impl-ui", title: "Implement the UI", work: ["List, add and complete todos"], files: ["ui/src/App.tsx", "ui/src/TodoList.tsx"], tests: ["ui: renders empty state"], next: ["tests"] },
  { id: "tests", title: "Write tests", work: ["Integration tests across API and store"], files: ["tests/integration.rs"], tests: ["cargo test (42 passed)"], next: ["docs"] },
  { id: "docs", title: "Write documentation", work: ["README usage and API reference"], files: ["README.md", "docs/api.md"], tests: [], next: ["validate"] },
  { id: "validate", title: "Validate the build", work: ["Ran fmt, clippy and the full test suite"], files: [], tests: ["cargo fmt --check", "cargo clippy -D warnings", "cargo test"], next: ["review"] },
];

type Reviewer = { id: string; reviewer: string; approved: boolean; summary: string; issues: string[] };

const REVIEWERS: Reviewer[] = [
  { id: "review-code-quality", reviewer: "CODE-QUALITY", approved: true, summary: "Idiomatic, small functions, clear naming.", issues: [] },
  { id: "review-security", reviewer: "SECURITY", approved: false, summary: "Request bodies are not size-limited.", issues: ["src/api.rs: add a body size limit to POST /todos (DoS risk)"] },
  { id: "review-test-coverage", reviewer: "TEST-COVERAGE", approved: true, summary: "Core paths covered by integration tests.", issues: [] },
  { id: "review-maintainability", reviewer: "MAINTAINABILITY", approved: true, summary: "Module boundaries are clean.", issues: ["Consider extracting validation into its own module"] },
];

const stepAgent = (s: Step) =>
  mockAgent(s.id, (u) => ({ v: 1, taskId: s.id, status: "done", work: s.work, files: s.files, tests: s.tests, issues: [], next: s.next, model: MODEL, ...u }), taskMs);

const reviewAgent = (r: Reviewer) =>
  mockAgent(r.id, (u) => ({ reviewer: r.reviewer, approved: r.approved, summary: r.summary, issues: r.issues, model: MODEL, ...u }), taskMs);

/** Runs only after `smithers approve`; copies the recorded decision into human_gate. */
const gateAgent = (runId: string) =>
  mockAgent(
    "human-gate",
    () => {
      const row = (db as any).$client
        .query(`SELECT status, note, decided_by AS decidedBy FROM _smithers_approvals WHERE run_id = ? AND node_id = 'human-gate' AND iteration = 0`)
        .get(runId) as { status: string; note: string | null; decidedBy: string | null } | null;
      const who = row?.decidedBy ?? "a human";
      return {
        approved: row?.status === "approved",
        summary: `Release approved by ${who}${row?.note ? `: ${row.note}` : "."}`,
        decidedBy: row?.decidedBy ?? null,
        note: row?.note ?? null,
      };
    },
    () => 0,
  );

const doneAgent = mockAgent(
  "done",
  (u) => ({ v: 1, taskId: "done", status: "done", work: ["Merged the change and closed the spec"], files: [], tests: [], issues: [], next: [], model: MODEL, ...u }),
  () => Math.min(taskMs(), 500),
);

// ---------------------------------------------------------------------------

export default smithers((ctx) => (
  <Workflow name="demo">
    <Sequence>
      {STEPS.map((s) => (
        <Task key={s.id} id={s.id} output="taskReport" agent={stepAgent(s)} label={s.title}>
          {`${s.title}. Return a task report as JSON.`}
        </Task>
      ))}
      <Parallel>
        {REVIEWERS.map((r) => (
          <Task key={r.id} id={r.id} output="reviewReport" agent={reviewAgent(r)} label={`${r.reviewer} review`}>
            {`Review the change as ${r.reviewer}. Return a review report as JSON.`}
          </Task>
        ))}
      </Parallel>
      <Task id="human-gate" output="humanGate" needsApproval agent={gateAgent(ctx.runId)} label="Human approval">
        Record the human decision.
      </Task>
      <Task id="done" output="taskReport" agent={doneAgent} label="Finalize">
        Finalize the run. Return a task report as JSON.
      </Task>
    </Sequence>
  </Workflow>
));

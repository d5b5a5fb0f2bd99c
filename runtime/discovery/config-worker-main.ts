// Worker entry for config-worker.ts: answers one load or parse request (config-load-task.ts) and is ended.
import { serveWorkerCalls } from "../lib/worker-call.ts";
import { runTask } from "./config-load-task.ts";

serveWorkerCalls(runTask);

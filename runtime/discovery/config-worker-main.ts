// Worker entry for config-worker.ts: answers one load request (config-load-task.ts) and is ended.
import { serveWorkerCalls } from "../lib/worker-call.ts";
import { runLoad } from "./config-load-task.ts";

serveWorkerCalls(runLoad);

export const id = 610;
export const ids = [610];
export const modules = {

/***/ 2610:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {


// EXPORTS
__webpack_require__.d(__webpack_exports__, {
  runOperation: () => (/* binding */ runOperation)
});

// EXTERNAL MODULE: ./node_modules/@actions/core/lib/core.js + 14 modules
var lib_core = __webpack_require__(6421);
// EXTERNAL MODULE: ./node_modules/@aws-sdk/client-auto-scaling/dist-cjs/index.js
var dist_cjs = __webpack_require__(8932);
// EXTERNAL MODULE: ./node_modules/@aws-sdk/client-cloudwatch/dist-cjs/index.js
var client_cloudwatch_dist_cjs = __webpack_require__(4085);
// EXTERNAL MODULE: ./node_modules/@aws-sdk/client-elastic-load-balancing-v2/dist-cjs/index.js
var client_elastic_load_balancing_v2_dist_cjs = __webpack_require__(586);
// EXTERNAL MODULE: ./node_modules/@aws-sdk/client-ssm/dist-cjs/index.js
var client_ssm_dist_cjs = __webpack_require__(4736);
// EXTERNAL MODULE: ./src/aws/client-config.ts
var client_config = __webpack_require__(6925);
// EXTERNAL MODULE: ./src/aws/send-gate.ts
var send_gate = __webpack_require__(4531);
;// CONCATENATED MODULE: ./src/aws/clients.ts






/**
 * Clients for the four services, configured alike (client-config.ts: retries bounded, the SDK's
 * own settings honoured, every attempt passing the lock's send gate). The load balancer's may
 * already exist: the run's first request went through it (main.ts, elb-client.ts).
 */
function createClients(region, elb, maxAttempts) {
    const config = (0,client_config/* clientConfig */.yO)(region, maxAttempts);
    return {
        elb: elb ?? (0,send_gate/* gated */.aH)(new client_elastic_load_balancing_v2_dist_cjs/* ElasticLoadBalancingV2Client */.MlD(config)),
        ssm: (0,send_gate/* gated */.aH)(new client_ssm_dist_cjs/* SSMClient */.jBj(config)),
        cloudwatch: (0,send_gate/* gated */.aH)(new client_cloudwatch_dist_cjs/* CloudWatchClient */.WBn(config)),
        autoScaling: (0,send_gate/* gated */.aH)(new dist_cjs/* AutoScalingClient */.yis(config))
    };
}

;// CONCATENATED MODULE: ./src/runtime/clock.ts
const systemClock = {
    now: () => Date.now(),
    sleep: (ms, signal) => new Promise((resolve, reject) => {
        if (signal?.aborted)
            return reject(signal.reason);
        const timer = setTimeout(() => {
            signal?.removeEventListener('abort', onAbort);
            resolve();
        }, ms);
        const onAbort = () => {
            clearTimeout(timer);
            reject(signal?.reason);
        };
        signal?.addEventListener('abort', onAbort, { once: true });
    })
};
/**
 * The clock with a heartbeat after every sleep: whatever a run waits for (commands, health, a
 * hold), it keeps its lock's lease alive while it waits, with no timer of its own.
 */
function withHeartbeat(clock, beat) {
    return {
        now: () => clock.now(),
        sleep: async (ms, signal) => {
            await clock.sleep(ms, signal);
            await beat();
            signal?.throwIfAborted();
        }
    };
}

// EXTERNAL MODULE: ./src/aws/elbv2.ts
var elbv2 = __webpack_require__(1000);
// EXTERNAL MODULE: ./src/config/arn.ts
var config_arn = __webpack_require__(2465);
// EXTERNAL MODULE: ./src/config/errors.ts
var errors = __webpack_require__(7827);
;// CONCATENATED MODULE: ./src/plan/command-policy.ts
// SSM's own limits: InstanceIds per SendCommand, characters in a command's comment.
const INSTANCES_PER_COMMAND = 50;
const COMMENT_MAX = 100;
// Status is polled quickly at first (the first look 100 ms after sending), then every half second
// for the first minute: most deploy scripts end by then, and each is noticed within half a second.
// A round is one call whatever the fleet's size, so that minute costs about 120 calls. A long
// script is then looked at less often, at a twentieth of its age, up to every 5 s: noticing it late
// costs at most a twentieth of its run, and a ten-minute script costs a couple of hundred calls.
const DEFAULT_POLL = {
    initialMs: 100,
    factor: 1.5,
    maxMs: 500,
    slowAfterMs: 60_000,
    slowShare: 0.05,
    slowMaxMs: 5000
};
/** The interval after `interval`, for commands `ageMs` old. */
function nextPollInterval(poll, interval, ageMs) {
    if (ageMs < poll.slowAfterMs)
        return Math.min(poll.maxMs, interval * poll.factor);
    return Math.min(poll.slowMaxMs, Math.max(poll.maxMs, ageMs * poll.slowShare));
}
// A round is one ListCommands call, plus a listing of each command that shows new failures and the
// output of each newly failed instance. Rounds are spaced so that even a round with many of those
// stays under this rate (SSM throttles per account and API; other tools share it).
const CALLS_PER_SECOND = 10;
/** How long to wait before the next round, after a round that made `calls` calls. */
function roundSpacing(interval, calls) {
    return Math.max(interval, (calls * 1000) / CALLS_PER_SECOND);
}
// Invocation statuses that can still change; every other status is final.
const UNFINISHED = new Set(['Pending', 'InProgress', 'Delayed', 'Cancelling']);
function isFinal(invocation) {
    return invocation?.Status !== undefined && !UNFINISHED.has(invocation.Status);
}
/** An invocation SSM counts in a command's ErrorCount or DeliveryTimedOutCount. */
function isCountedFailure(invocation) {
    return invocation?.Status === 'Failed' || invocation?.Status === 'TimedOut';
}
// Command statuses that can still change; Success, Failed, TimedOut and Cancelled are final.
const COMMAND_UNFINISHED = new Set(['Pending', 'InProgress', 'Cancelling']);
function commandProgress(command) {
    const final = command.Status !== undefined && !COMMAND_UNFINISHED.has(command.Status);
    const targets = command.TargetCount ?? 0;
    const completed = command.CompletedCount ?? 0;
    const failures = (command.ErrorCount ?? 0) + (command.DeliveryTimedOutCount ?? 0);
    // StatusDetails Success means the document succeeded on every invocation; "Incomplete" and the
    // rest mean some did not (a command can be Success overall while one instance failed within
    // MaxErrors, or was cancelled, which no counter shows). Only then may a deploy take the whole
    // command as done without asking about its instances.
    const allSucceeded = final &&
        command.Status === 'Success' &&
        (command.StatusDetails ?? 'Success') === 'Success' &&
        failures === 0 &&
        targets > 0 &&
        completed === targets;
    return { final, targets, completed, failures, allSucceeded };
}
/**
 * Whether a command needs its invocations listed: when it ended in anything but full success (the
 * table needs each instance's result), or while running when SSM counts more failures than its
 * last invocation listing showed (their output is fetched as soon as they fail, so the end does
 * not wait for it). A listing that lags the counts is simply asked again next round.
 */
function commandLook(progress, instanceCount, failuresListed) {
    if (progress.allSucceeded && progress.targets === instanceCount)
        return 'done';
    if (progress.final)
        return 'list-invocations';
    return progress.failures > failuresListed ? 'list-invocations' : 'wait';
}
// A command is listed with the moment SSM took it as its RequestedDateTime, and SSM's time filters
// compare those. A second either side covers the rounding of a date string.
const WINDOW_SLACK_MS = 1000;
// When SendCommand's answer carries no RequestedDateTime, the runner's clock stands in for SSM's;
// AWS refuses requests signed more than 5 minutes off, so the two are at most that far apart.
const CLOCK_SKEW_MAX_MS = 5 * 60_000;
/** When SSM may say a command was requested: its own time when known, else around the runner's. */
function requestedWindow(requestedAt, sentAt) {
    const t = requestedAt?.getTime();
    if (t !== undefined && Number.isFinite(t))
        return { earliest: t, latest: t };
    return { earliest: sentAt - CLOCK_SKEW_MAX_MS, latest: sentAt + CLOCK_SKEW_MAX_MS };
}
/**
 * ListCommands filters that select the commands requested between the first and the last of these
 * (a deploy's commands, and at most a few of the account's others sent meanwhile): one page.
 */
function sentWindowFilters(windows) {
    const from = Math.min(...windows.map((w) => w.earliest)) - WINDOW_SLACK_MS;
    const to = Math.max(...windows.map((w) => w.latest)) + WINDOW_SLACK_MS;
    return [
        { key: 'InvokedAfter', value: new Date(from).toISOString() },
        { key: 'InvokedBefore', value: new Date(to).toISOString() }
    ];
}
/**
 * Shares an absolute max-concurrency out across the commands, so the fleet as a whole never runs
 * more instances at once than asked: each command gets max(1, floor(C × its instances / fleet)).
 * The sum of the floors never exceeds C; only when C is below the number of commands does the
 * minimum of one per command go over it (the caller is warned). A percentage applies to each
 * command's own instances, which is the same share of the fleet, so it passes as it is.
 */
function concurrencyFor(maxConcurrency, batchSize, fleetSize) {
    if (maxConcurrency.endsWith('%'))
        return maxConcurrency;
    return String(Math.max(1, Math.floor((Number(maxConcurrency) * batchSize) / fleetSize)));
}
/**
 * max-errors over the whole fleet. Each command is sent the same value, so SSM stops a command
 * early on its own errors; whether the deploy may go on is judged here, over every instance.
 * A percentage rounds down, like SSM's own.
 */
function allowedFailures(maxErrors, fleetSize) {
    if (maxErrors.endsWith('%'))
        return Math.floor((Number(maxErrors.slice(0, -1)) * fleetSize) / 100);
    return Number(maxErrors);
}
/** The commands' comment: which deploy, from which workflow run, within SSM's 100 characters. */
function commandComment(parts) {
    // A commit SHA is recognisable from its first 12 digits; other labels are kept as given.
    const version = /^[0-9a-f]{13,}$/i.test(parts.version) ? parts.version.slice(0, 12) : parts.version;
    const run = parts.runId ? ` run ${parts.runId}` : '';
    const full = `deploy ${version}${parts.repository ? ` from ${parts.repository}` : ''}${run}`;
    if (full.length <= COMMENT_MAX)
        return full;
    // The run is what finds the deploy again: the version and repository give way to it.
    return `${clip(full.slice(0, full.length - run.length), COMMENT_MAX - run.length)}${run}`.slice(0, COMMENT_MAX);
}
function clipComment(comment) {
    return comment.slice(0, COMMENT_MAX);
}
const TAIL_LINES = 40;
const TAIL_CHARS = 4096;
/** The end of what the instance wrote: stdout, then stderr, cut to the last lines and bytes. */
function outputTail(stdout, stderr) {
    const out = stdout.trimEnd();
    const err = stderr.trimEnd();
    const text = out && err ? `${out}\n--- stderr ---\n${err}` : out || err;
    const lines = text.split('\n');
    const tail = lines.slice(-TAIL_LINES).join('\n');
    return tail.length > TAIL_CHARS ? tail.slice(-TAIL_CHARS) : tail;
}
/** How long an instance ran the document, from the listing's plugin times. */
function listedDuration(inv) {
    const plugins = inv?.CommandPlugins ?? [];
    const starts = plugins.flatMap((p) => (p.ResponseStartDateTime ? [p.ResponseStartDateTime.getTime()] : []));
    const ends = plugins.flatMap((p) => (p.ResponseFinishDateTime ? [p.ResponseFinishDateTime.getTime()] : []));
    if (starts.length === 0 || ends.length === 0)
        return undefined;
    return Math.max(0, Math.max(...ends) - Math.min(...starts));
}
/** Milliseconds between two of SSM's date strings, when both are there and in order. */
function elapsed(start, end) {
    if (!start || !end)
        return undefined;
    const ms = Date.parse(end) - Date.parse(start);
    return Number.isFinite(ms) && ms >= 0 ? ms : undefined;
}
function clip(text, max) {
    return text.length > max ? `${text.slice(0, max - 3)}...` : text;
}

;// CONCATENATED MODULE: ./src/aws/console-links.ts
/** The command's page in the Systems Manager console: every instance's status and output. */
function consoleUrl(region, commandId) {
    return `${consoleOrigin(region)}/systems-manager/run-command/${encodeURIComponent(commandId)}?region=${region}`;
}
/** The log group's page in the CloudWatch console, where SSM writes each instance's full output. */
function logGroupUrl(region, logGroup) {
    // The console's fragment router expects the name URL-encoded twice over, with '$' for '%'.
    const name = encodeURIComponent(logGroup).replace(/%/g, '$25');
    return `${consoleOrigin(region)}/cloudwatch/home?region=${region}#logsV2:log-groups/log-group/${name}`;
}
function consoleOrigin(region) {
    if (region.startsWith('cn-'))
        return `https://${region}.console.amazonaws.cn`;
    if (region.startsWith('us-gov-'))
        return `https://${region}.console.amazonaws-us-gov.com`;
    return `https://${region}.console.aws.amazon.com`;
}

// EXTERNAL MODULE: ./src/aws/batches.ts
var aws_batches = __webpack_require__(1729);
;// CONCATENATED MODULE: ./src/aws/ssm-commands.ts


// SSM's own limits: results per listing page, filter values per DescribeInstanceInformation.
const PAGE_SIZE = 50;
const IDS_PER_DESCRIBE = 50;
/** Sends one command; SSM's refusals become errors that say what to fix. */
async function sendCommand(ssm, input) {
    const { Command } = await ssm.send(new client_ssm_dist_cjs/* SendCommandCommand */.VWR(input)).catch((e) => {
        throw sendError(e, input.DocumentName ?? '');
    });
    if (!Command?.CommandId)
        throw new errors/* DeployError */.sH(`SSM accepted ${input.DocumentName} but returned no command id; run the deploy again`);
    return { id: Command.CommandId, requestedAt: Command.RequestedDateTime };
}
/**
 * The commands the filters select, page after page, until every id in `wanted` has been seen (the
 * rest of the account's commands are of no interest) or the pages run out. One page holds 50
 * commands, which is 2,500 instances of ours: a deploy's status is one call.
 */
async function listCommands(ssm, filters, wanted) {
    const found = [];
    const missing = new Set(wanted);
    let calls = 0;
    let NextToken;
    do {
        calls++;
        const page = await ssm.send(new client_ssm_dist_cjs/* ListCommandsCommand */.I$q({ Filters: filters, MaxResults: PAGE_SIZE, NextToken }));
        for (const command of page.Commands ?? []) {
            if (!command.CommandId || !wanted.has(command.CommandId))
                continue;
            found.push(command);
            missing.delete(command.CommandId);
        }
        NextToken = page.NextToken;
    } while (NextToken && missing.size > 0);
    return { commands: found, calls };
}
/**
 * Whether this role may follow commands with ListCommands: asked before anything is sent, since a
 * deploy that finds out after sending would leave its commands running unwatched.
 */
async function mayListCommands(ssm) {
    try {
        await ssm.send(new client_ssm_dist_cjs/* ListCommandsCommand */.I$q({ MaxResults: 1, Filters: [{ key: 'InvokedAfter', value: new Date().toISOString() }] }));
    }
    catch (error) {
        if (error.name !== 'AccessDeniedException')
            throw error;
        throw new errors/* DeployError */.sH(`Not allowed to follow SSM commands (${(0,errors/* messageOf */.bD)(error)}); give the workflow's role ssm:ListCommands (see the IAM policy in the README); nothing was sent`);
    }
}
/** One command by its id; SSM answers InvalidCommandId for an id it does not know (yet). */
async function getCommand(ssm, commandId) {
    const { Commands } = await ssm.send(new client_ssm_dist_cjs/* ListCommandsCommand */.I$q({ CommandId: commandId }));
    return Commands?.find((c) => c.CommandId === commandId);
}
/** Every invocation of a command, through all pages. */
async function listInvocations(ssm, commandId) {
    const invocations = [];
    let NextToken;
    do {
        const page = await ssm.send(new client_ssm_dist_cjs/* ListCommandInvocationsCommand */.mdT({ CommandId: commandId, MaxResults: PAGE_SIZE, NextToken }));
        invocations.push(...(page.CommandInvocations ?? []));
        NextToken = page.NextToken;
    } while (NextToken);
    return invocations;
}
/** One instance's result of a command, with its output. */
async function getInvocation(ssm, commandId, instanceId) {
    return ssm.send(new client_ssm_dist_cjs/* GetCommandInvocationCommand */.ryN({ CommandId: commandId, InstanceId: instanceId }));
}
/** Cancels the commands on all their instances; a command that already finished is left as it is. */
async function cancelCommands(ssm, commandIds) {
    const outcomes = await Promise.allSettled(commandIds.map((CommandId) => ssm.send(new client_ssm_dist_cjs/* CancelCommandCommand */.tal({ CommandId }))));
    const failures = outcomes.flatMap((o, i) => o.status === 'rejected' ? [`${commandIds[i]} (${(0,errors/* messageOf */.bD)(o.reason)})`] : []);
    if (failures.length > 0) {
        throw new errors/* DeployError */.sH(`Could not cancel ${failures.length} SSM command(s): ${(0,errors/* boundedList */.Y4)(failures)}; cancel them in the Systems Manager console (Run Command)`);
    }
}
/** What SSM knows of these instances (at most IDS_PER_DESCRIBE), through all pages. */
async function describeInstances(ssm, instanceIds) {
    const found = [];
    let NextToken;
    do {
        const page = await ssm.send(new client_ssm_dist_cjs/* DescribeInstanceInformationCommand */.MXw({
            Filters: [{ Key: 'InstanceIds', Values: instanceIds }],
            MaxResults: PAGE_SIZE,
            NextToken
        }));
        found.push(...(page.InstanceInformationList ?? []));
        NextToken = page.NextToken;
    } while (NextToken);
    return found;
}
function sendError(error, document) {
    const name = error.name;
    const message = (0,errors/* messageOf */.bD)(error);
    switch (name) {
        case 'InvalidDocument':
        case 'InvalidDocumentVersion':
            return new errors/* DeployError */.sH(`SSM has no usable document ${document} (${message}); check the document input and the region`);
        case 'InvalidParameters':
            return new errors/* DeployError */.sH(`${document} does not accept the parameters given (${message}); check commands and document-parameters`);
        case 'InvalidInstanceId':
            return new errors/* DeployError */.sH(`SSM cannot send to the idle instances (${message}); check that they are running, managed by SSM and online`);
        case 'AccessDeniedException':
            return new errors/* DeployError */.sH(`Not allowed to send ${document} (${message}); give the workflow's role ssm:SendCommand on the document and the instances`);
        default:
            return error;
    }
}

;// CONCATENATED MODULE: ./src/fleet/run-commands.ts




// SendCommand's delivery timeout cannot be shorter than this.
const MIN_DELIVERY_TIMEOUT_S = 30;
// The agent stops a script at its execution timeout and reports within seconds; the grace covers
// delivery and that report, so a command is only cancelled once it has clearly overrun.
const TIMEOUT_GRACE_MS = 30_000;
// SSM is eventually consistent: a command just sent may be missing from the listings for a few
// seconds. Missing for this long, it is asked for by its id, and an unknown id is then an error.
const NOT_YET_VISIBLE_MS = 60_000;
// Progress is logged when it changes, and at least this often while nothing does.
const PROGRESS_EVERY_MS = 30_000;
// Invocation listings of different commands in one round run side by side, a few at a time.
const LISTINGS_AT_ONCE = 5;
// Output of failed instances: a bounded number of GetCommandInvocation calls, a few at a time.
const OUTPUT_FETCHES_MAX = 20;
const OUTPUT_FETCHES_AT_ONCE = 5;
const SHELL_DOCUMENTS = new Set(['AWS-RunShellScript', 'AWS-RunPowerShellScript']);
/**
 * Runs the document on every instance and waits for all of them, cancelling at the timeout or
 * when the signal aborts. Failures are counted, not thrown: the caller decides with
 * `withinMaxErrors` and `timedOut` whether the deploy may go on.
 */
async function runCommand(ssm, request, ctx) {
    const { log, signal } = ctx;
    const fleetSize = request.instanceIds.length;
    const sent = [];
    if (fleetSize === 0)
        return { commandIds: [], results: [], succeeded: 0, failed: 0, withinMaxErrors: true, timedOut: false };
    try {
        await sendToFleet(ssm, request, ctx, sent);
        const outputs = new Map();
        const timedOut = await waitForCommands(ssm, request, ctx, sent, outputs);
        const results = await collectResults(ssm, request.instanceIds, sent, outputs, log, signal);
        const succeeded = results.filter((r) => r.status === 'Success').length;
        const failed = fleetSize - succeeded;
        return {
            commandIds: sent.map((c) => c.id),
            results,
            succeeded,
            failed,
            withinMaxErrors: failed <= allowedFailures(request.maxErrors, fleetSize),
            timedOut
        };
    }
    catch (error) {
        // Whatever stopped us, commands left running would go on changing the idle fleet unwatched.
        const unfinished = sent.filter((c) => !c.finished).map((c) => c.id);
        if (unfinished.length > 0) {
            log.warning(`Cancelling ${unfinished.length} unfinished command(s): ${unfinished.join(', ')}`);
            await cancelCommands(ssm, unfinished).catch((e) => log.warning((0,errors/* messageOf */.bD)(e)));
        }
        throw signal?.aborted ? signal.reason : error;
    }
}
async function sendToFleet(ssm, request, ctx, sent) {
    const { clock, log, signal } = ctx;
    const fleetSize = request.instanceIds.length;
    const batches = (0,aws_batches/* chunks */.V)(request.instanceIds, INSTANCES_PER_COMMAND);
    const concurrency = batches.map((b) => concurrencyFor(request.maxConcurrency, b.length, fleetSize));
    log.info(`Running ${request.document} on ${fleetSize} idle instance(s) in ${batches.length} command(s) ` +
        `(max-concurrency ${request.maxConcurrency}, max-errors ${request.maxErrors})`);
    const total = concurrency.reduce((sum, c) => sum + (Number(c) || 0), 0);
    if (!request.maxConcurrency.endsWith('%') && total > Number(request.maxConcurrency)) {
        log.warning(`max-concurrency ${request.maxConcurrency} is below the number of commands (${batches.length}, at most ${INSTANCES_PER_COMMAND} instances each); ` +
            `each command runs on at least one instance at a time, so up to ${total} instances run at once`);
    }
    const executionTimeoutS = Math.ceil(request.executionTimeoutMs / 1000);
    const parameters = { ...request.parameters };
    if (SHELL_DOCUMENTS.has(request.document) && !parameters.executionTimeout)
        parameters.executionTimeout = [String(executionTimeoutS)];
    for (const [i, batch] of batches.entries()) {
        signal?.throwIfAborted();
        const guard = ctx.guard ?? ((_what, change) => change());
        const { id, requestedAt } = await guard(`Sending ${request.document} to ${batch.length} instance(s)`, () => sendCommand(ssm, {
            DocumentName: request.document,
            InstanceIds: batch,
            Parameters: parameters,
            // Delivery waits no longer than the run itself may take (SSM's minimum is 30 s).
            TimeoutSeconds: Math.max(MIN_DELIVERY_TIMEOUT_S, executionTimeoutS),
            MaxConcurrency: concurrency[i],
            MaxErrors: request.maxErrors,
            Comment: clipComment(request.comment),
            ...(request.cloudWatchLogGroup
                ? {
                    CloudWatchOutputConfig: {
                        CloudWatchLogGroupName: request.cloudWatchLogGroup,
                        CloudWatchOutputEnabled: true
                    }
                }
                : {})
        }));
        sent.push(newSentCommand(id, batch, clock.now(), requestedAt));
        log.info(`Sent command ${id} to ${batch.length} instance(s) (${i + 1}/${batches.length})`);
        ctx.onSent?.(sent.map((c) => c.id));
    }
}
function newSentCommand(id, instanceIds, sentAt, requestedAt) {
    return {
        id,
        instanceIds,
        sentAt,
        requested: requestedWindow(requestedAt, sentAt),
        finished: false,
        timedOut: false,
        allSucceeded: false,
        invocations: new Map(),
        failuresListed: 0
    };
}
/** Polls until every command has finished or overrun; returns whether any timed out. */
async function waitForCommands(ssm, request, ctx, sent, outputs) {
    const { clock, log, signal } = ctx;
    const poll = ctx.poll ?? DEFAULT_POLL;
    const fleetSize = request.instanceIds.length;
    const deadline = (c) => c.sentAt + request.executionTimeoutMs + TIMEOUT_GRACE_MS;
    let interval = poll.initialMs;
    let calls = 0;
    let lastProgress = '';
    let lastLoggedAt = clock.now();
    let timedOut = false;
    for (;;) {
        const unfinished = sent.filter((c) => !c.finished);
        if (unfinished.length === 0)
            return timedOut;
        const untilDeadline = Math.min(...unfinished.map(deadline)) - clock.now();
        await clock.sleep(Math.max(0, Math.min(roundSpacing(interval, calls), untilDeadline)), signal);
        interval = nextPollInterval(poll, interval, clock.now() - Math.min(...sent.map((c) => c.sentAt)));
        calls = await lookAtCommands(ssm, unfinished, clock.now(), outputs, signal);
        signal?.throwIfAborted();
        const overrun = sent.filter((c) => !c.finished && clock.now() >= deadline(c));
        if (overrun.length > 0) {
            timedOut = true;
            log.warning(`${overrun.length} command(s) still running after command-timeout (${Math.round(request.executionTimeoutMs / 1000)}s); cancelling them: ` +
                overrun.map((c) => c.id).join(', '));
            // One last listing tells which instances did finish, for the table; the rest timed out.
            await (0,aws_batches/* inGroups */.A)(overrun, LISTINGS_AT_ONCE, (c) => listCommandInvocations(ssm, c, clock.now()).catch((e) => log.warning((0,errors/* messageOf */.bD)(e))));
            await cancelCommands(ssm, overrun.map((c) => c.id)).catch((e) => log.warning((0,errors/* messageOf */.bD)(e)));
            for (const c of overrun) {
                c.finished = true;
                c.timedOut = true;
            }
        }
        const counts = tally(sent);
        const progress = `${counts.done}/${fleetSize} done, ${counts.failed} failed`;
        log.debug(`poll: ${calls} call(s) about ${unfinished.length} command(s), ${sent.filter((c) => !c.finished).length} still running; next in ${Math.round(interval)}ms`);
        // A change is news; the same count again is only a sign of life.
        if (progress !== lastProgress)
            log.info(progress);
        else if (clock.now() - lastLoggedAt >= PROGRESS_EVERY_MS)
            log.debug(`still ${progress}`);
        if (progress !== lastProgress || clock.now() - lastLoggedAt >= PROGRESS_EVERY_MS) {
            lastProgress = progress;
            lastLoggedAt = clock.now();
        }
    }
}
/**
 * One poll round: a single ListCommands call tells every command's status and counts, however
 * many commands (and instances) there are. Only a command with new failures, or one that ended in
 * anything but full success, has its invocations listed; a newly failed instance has its output
 * fetched once, right away, so the end does not wait for it. Returns the calls made.
 */
async function lookAtCommands(ssm, unfinished, now, outputs, signal) {
    const wanted = new Set(unfinished.map((c) => c.id));
    const listing = await listCommands(ssm, sentWindowFilters(unfinished.map((c) => c.requested)), wanted);
    let calls = listing.calls;
    for (const command of unfinished) {
        const entry = listing.commands.find((c) => c.CommandId === command.id);
        if (entry)
            command.listed = entry;
        else if (now - command.sentAt >= NOT_YET_VISIBLE_MS) {
            // Long past any consistency delay: ask by id. SSM's InvalidCommandId is then the answer.
            calls++;
            command.listed = (await getCommand(ssm, command.id)) ?? command.listed;
        }
    }
    const toList = [];
    for (const command of unfinished) {
        if (!command.listed)
            continue;
        const look = commandLook(commandProgress(command.listed), command.instanceIds.length, command.failuresListed);
        if (look === 'done') {
            command.allSucceeded = true;
            command.finished = true;
        }
        else if (look === 'list-invocations')
            toList.push(command);
    }
    await (0,aws_batches/* inGroups */.A)(toList, LISTINGS_AT_ONCE, (c) => listCommandInvocations(ssm, c, now));
    calls += toList.length;
    signal?.throwIfAborted();
    // Instances that ran and failed, with an exit code and output worth showing.
    const failed = toList.flatMap((command) => command.instanceIds
        .filter((id) => command.invocations.get(id)?.Status === 'Failed' && !outputs.has(id))
        .map((instanceId) => ({ command, instanceId })));
    calls += await fetchOutputs(ssm, failed, outputs, signal);
    return calls;
}
/** Lists a command's invocations; finishes it once the listing has caught up with its final counts. */
async function listCommandInvocations(ssm, command, now) {
    let invocations;
    try {
        invocations = await listInvocations(ssm, command.id);
    }
    catch (error) {
        // The listing may not know a command SSM has just taken; the next round asks again.
        const name = error.name;
        const notYet = name === 'InvocationDoesNotExist' || name === 'InvalidCommandId';
        if (notYet && now - command.sentAt < NOT_YET_VISIBLE_MS)
            return;
        throw error;
    }
    for (const inv of invocations) {
        if (inv.InstanceId && command.instanceIds.includes(inv.InstanceId))
            command.invocations.set(inv.InstanceId, inv);
    }
    const listed = command.instanceIds.map((id) => command.invocations.get(id));
    command.failuresListed = listed.filter(isCountedFailure).length;
    const finalListed = listed.filter(isFinal).length;
    const progress = command.listed ? commandProgress(command.listed) : undefined;
    // Final by its counts and the listing shows at least as many final invocations: what is not final
    // by then was never sent (MaxErrors reached) and will not run.
    if (finalListed === command.instanceIds.length || (progress?.final && finalListed >= progress.completed))
        command.finished = true;
}
function tally(sent) {
    let done = 0;
    let failed = 0;
    for (const c of sent) {
        if (c.allSucceeded) {
            done += c.instanceIds.length;
        }
        else if (!c.finished) {
            // Still running: SSM's counts say how far it got.
            const progress = c.listed ? commandProgress(c.listed) : undefined;
            done += progress?.completed ?? 0;
            failed += progress?.failures ?? 0;
        }
        else {
            for (const id of c.instanceIds) {
                const inv = c.invocations.get(id);
                done++;
                if (!isFinal(inv) || inv?.Status !== 'Success')
                    failed++;
            }
        }
    }
    return { done, failed };
}
/** Fetches the output of these instances, skipping any already fetched, within the run's bound. */
async function fetchOutputs(ssm, wanted, outputs, signal) {
    const fresh = wanted.filter(({ instanceId }) => !outputs.has(instanceId));
    const fetched = fresh.slice(0, Math.max(0, OUTPUT_FETCHES_MAX - outputs.size));
    await (0,aws_batches/* inGroups */.A)(fetched, OUTPUT_FETCHES_AT_ONCE, async ({ command, instanceId }) => {
        signal?.throwIfAborted();
        const detail = await getInvocation(ssm, command.id, instanceId).catch((e) => e instanceof Error ? e : new Error((0,errors/* messageOf */.bD)(e)));
        outputs.set(instanceId, detail);
    });
    return fetched.length;
}
/** A result per instance; output only for failed ones, and only for a bounded number of them. */
async function collectResults(ssm, instanceIds, sent, outputs, log, signal) {
    const byInstance = new Map();
    for (const command of sent) {
        for (const instanceId of command.instanceIds) {
            byInstance.set(instanceId, { command, result: resultOf(instanceId, command) });
        }
    }
    const results = instanceIds.map((id) => byInstance.get(id)?.result ?? { instanceId: id, status: 'Pending' });
    // Failed instances first (they ran and have an exit code), then timed-out or undelivered ones.
    const failed = [...byInstance.values()]
        .filter(({ result }) => result.status !== 'Success')
        .sort((a, b) => Number(b.result.status === 'Failed') - Number(a.result.status === 'Failed'));
    await fetchOutputs(ssm, failed.map(({ command, result }) => ({ command, instanceId: result.instanceId })), outputs, signal);
    const shown = failed.filter(({ result }) => outputs.has(result.instanceId)).length;
    if (failed.length > shown) {
        log.info(`Showing the output of ${shown} of ${failed.length} failed instances; the rest is in the SSM console`);
    }
    for (const { command, result } of failed) {
        const detail = outputs.get(result.instanceId);
        if (detail instanceof Error) {
            log.warning(`Could not read the output of ${result.instanceId} (command ${command.id}): ${detail.message}`);
        }
        else if (detail)
            withOutput(result, detail);
    }
    return results;
}
function withOutput(result, detail) {
    // SSM reports -1 when the script did not run to an exit of its own.
    if (detail.ResponseCode !== undefined && detail.ResponseCode !== -1)
        result.exitCode = detail.ResponseCode;
    if (detail.StatusDetails && result.status !== 'TimedOut')
        result.statusDetails = detail.StatusDetails;
    result.durationMs ??= elapsed(detail.ExecutionStartDateTime, detail.ExecutionEndDateTime);
    const tail = outputTail(detail.StandardOutputContent ?? '', detail.StandardErrorContent ?? '');
    if (tail)
        result.outputTail = tail;
}
function resultOf(instanceId, command) {
    // SSM reports Success only when every step exited 0; no call is spent to fetch it.
    if (command.allSucceeded)
        return { instanceId, status: 'Success', statusDetails: 'Success', exitCode: 0 };
    const inv = command.invocations.get(instanceId);
    if (isFinal(inv) || !command.timedOut) {
        return {
            instanceId,
            status: inv?.Status ?? 'Pending',
            statusDetails: inv?.StatusDetails,
            durationMs: listedDuration(inv),
            ...(inv?.Status === 'Success' ? { exitCode: 0 } : {})
        };
    }
    return {
        instanceId,
        status: 'TimedOut',
        statusDetails: `not finished within command-timeout (was ${inv?.StatusDetails ?? inv?.Status ?? 'not yet delivered'}); cancelled`
    };
}

;// CONCATENATED MODULE: ./src/fleet/deploy-commands.ts




/**
 * Runs the deploy's document on the whole idle fleet (it serves no traffic, so every instance
 * takes the new code at once) and hands `report` what happened before judging it: the summary
 * shows each failed instance's output whatever comes next. Throws when more instances failed
 * than max-errors allows, since no traffic may reach a fleet whose deploy failed.
 */
async function runDeployCommands(config, ctx, instanceIds, hooks) {
    const outcome = await runCommand(ctx.clients.ssm, {
        instanceIds,
        document: config.document,
        parameters: config.documentParameters,
        executionTimeoutMs: config.commandTimeoutMs,
        maxConcurrency: config.maxConcurrency,
        maxErrors: config.maxErrors,
        comment: commandComment({ version: config.version, repository: ctx.run.repository, runId: ctx.run.runId }),
        cloudWatchLogGroup: config.cloudWatchLogGroup
    }, { clock: ctx.clock, log: ctx.log, signal: ctx.signal, onSent: hooks.onSent, guard: hooks.guard });
    const first = outcome.commandIds[0];
    const report = {
        commandIds: outcome.commandIds,
        documentName: config.document,
        consoleUrl: first ? consoleUrl(config.region, first) : undefined,
        logGroupUrl: config.cloudWatchLogGroup ? logGroupUrl(config.region, config.cloudWatchLogGroup) : undefined,
        total: instanceIds.length,
        succeeded: outcome.succeeded,
        failed: outcome.failed,
        instances: outcome.results
    };
    hooks.onReport(report);
    if (!outcome.withinMaxErrors) {
        const why = outcome.timedOut ? `timed out after command-timeout` : `failed`;
        throw new errors/* DeployError */.sH(`The deploy commands ${why} on ${outcome.failed} of ${instanceIds.length} instances (max-errors ${config.maxErrors}); no traffic was moved: see the failed instances' output below`);
    }
    return report;
}

;// CONCATENATED MODULE: ./src/plan/target-health.ts
/** The cadence from a group's settings; AWS's defaults (30 s, 5 healthy, 2 unhealthy) where unset. */
function healthCadence(group) {
    const intervalMs = (group.HealthCheckIntervalSeconds ?? 30) * 1000;
    return {
        intervalMs,
        detectUnhealthyMs: intervalMs * (group.UnhealthyThresholdCount ?? 2),
        detectHealthyMs: intervalMs * (group.HealthyThresholdCount ?? 5)
    };
}
/** `i-0abc unhealthy (Target.Timeout), …`: the first few targets with their state, for messages. */
function describeTargets(targets) {
    const shown = targets.slice(0, 10).map((t) => `${t.id} ${t.state}${t.reason ? ` (${t.reason})` : ''}`);
    const more = targets.length > shown.length ? ` and ${targets.length - shown.length} more` : '';
    return `${shown.join(', ')}${more}`;
}

;// CONCATENATED MODULE: ./src/fleet/health-wait.ts




/**
 * Waits until every given target is healthy *on the new code*. Targets of the idle fleet were
 * healthy before the deploy too, so "healthy" only counts once the load balancer has had time to
 * check the restarted app often enough to mark it unhealthy (detectUnhealthyMs). A target that
 * stays unhealthy longer than it would need to recover fails the wait at once, with its reason,
 * instead of burning the whole health-timeout (the SDK waiter would retry to the end).
 */
async function waitHealthy(elb, targetGroupArn, options) {
    const { clock, cadence, instanceIds } = options;
    const started = clock.now();
    const pollMs = options.pollMs ?? Math.min(5000, Math.max(250, cadence.intervalMs / 4));
    const unhealthySince = new Map();
    const name = (0,config_arn/* targetGroupName */.IT)(targetGroupArn);
    let lastLine = '';
    for (;;) {
        const health = await (0,elbv2/* targetHealth */.kG)(elb, targetGroupArn);
        const now = clock.now();
        const byId = new Map(health.map((h) => [h.id, h]));
        const missing = instanceIds.filter((id) => !byId.has(id));
        if (missing.length > 0) {
            throw new errors/* DeployError */.sH(`Instance${missing.length > 1 ? 's' : ''} ${missing.slice(0, 10).join(', ')} left target group ${name} during the deploy; register the fleet again and redeploy`);
        }
        const targets = instanceIds.map((id) => byId.get(id));
        const failing = targets.filter((t) => ['draining', 'unavailable', 'unused'].includes(t.state));
        if (failing.length > 0) {
            throw new errors/* DeployError */.sH(`${describeTargets(failing)} in ${name}; the new fleet cannot take traffic (health checks must be enabled and the group in the forward action)`);
        }
        for (const t of targets) {
            if (t.state === 'unhealthy')
                unhealthySince.set(t.id, unhealthySince.get(t.id) ?? now);
            else
                unhealthySince.delete(t.id);
        }
        const stuck = targets.filter((t) => now - (unhealthySince.get(t.id) ?? now) > cadence.detectHealthyMs + cadence.intervalMs);
        if (stuck.length > 0) {
            throw new errors/* DeployError */.sH(`${describeTargets(stuck)} in ${name} after the deploy; fix the new version (see the command output and the app's logs) and deploy again`);
        }
        const healthy = targets.filter((t) => t.state === 'healthy').length;
        options.log.debug(`poll: ${targets.map((t) => `${t.id} ${t.state}`).join(', ')}`);
        const line = `${name}: ${healthy}/${targets.length} targets healthy`;
        if (line !== lastLine)
            options.log.info(line);
        lastLine = line;
        if (healthy === targets.length && now - started >= cadence.detectUnhealthyMs)
            return targets;
        if (now - started >= options.timeoutMs && healthy === targets.length) {
            // Healthy targets are not yet proof of the new code: the load balancer has not checked it
            // often enough to mark a failing target unhealthy, so the wait cannot succeed in this time.
            const s = (ms) => `${Math.round(ms / 1000)}s`;
            const checks = Math.round(cadence.detectUnhealthyMs / cadence.intervalMs);
            throw new errors/* DeployError */.sH(`Every target of ${name} is healthy, but health-timeout (${s(options.timeoutMs)}) ends before the load balancer could have marked a failing target unhealthy (${s(cadence.detectUnhealthyMs)}: ${checks} checks ${s(cadence.intervalMs)} apart); raise health-timeout to at least ${s(cadence.detectUnhealthyMs)}`);
        }
        if (now - started >= options.timeoutMs) {
            const notHealthy = targets.filter((t) => t.state !== 'healthy');
            throw new errors/* DeployError */.sH(`Not every target of ${name} was healthy after health-timeout (${Math.round(options.timeoutMs / 1000)}s): ${describeTargets(notHealthy)}; raise health-timeout if the app needs longer to start, or fix the new version`);
        }
        // All healthy but not yet checked long enough on the new code: look again exactly when the
        // minimum is reached rather than a whole poll later, which would only add to the deploy's time.
        const untilMinimum = started + cadence.detectUnhealthyMs - now;
        await clock.sleep(healthy === targets.length && untilMinimum > 0 ? Math.min(pollMs, untilMinimum) : pollMs, options.signal);
    }
}

;// CONCATENATED MODULE: ./src/fleet/instance-readiness.ts



// Describe calls side by side: one after the other, 1,000 instances would wait on 20 round trips.
const DESCRIBES_AT_ONCE = 5;
/**
 * Checks that every instance can receive a command now (managed by SSM and its agent online), and
 * that the run may follow the commands. Sending to an instance that is not would only fail later,
 * one invocation at a time.
 */
async function checkInstancesReady(ssm, instanceIds) {
    const seen = new Map();
    await Promise.all([
        (0,aws_batches/* inGroups */.A)((0,aws_batches/* chunks */.V)(instanceIds, IDS_PER_DESCRIBE), DESCRIBES_AT_ONCE, async (batch) => {
            for (const info of await describeInstances(ssm, batch))
                if (info.InstanceId)
                    seen.set(info.InstanceId, info);
        }),
        // The commands are followed with ListCommands, a permission roles made for earlier versions lack.
        mayListCommands(ssm)
    ]);
    const notReady = instanceIds.flatMap((id) => {
        const info = seen.get(id);
        if (!info)
            return [`${id} (not managed by SSM)`];
        if (info.PingStatus !== 'Online')
            return [`${id} (${info.PingStatus ?? 'no agent status'})`];
        return [];
    });
    if (notReady.length > 0) {
        throw new errors/* DeployError */.sH(`${notReady.length} of ${instanceIds.length} idle instances cannot run commands: ${(0,errors/* boundedList */.Y4)(notReady)}; ` +
            'start the SSM agent and give each instance a role with AmazonSSMManagedInstanceCore (and a route to the SSM endpoints), ' +
            'or deregister it from the idle target group, then run the deploy again');
    }
}

;// CONCATENATED MODULE: ./src/plan/deploy-plan.ts
/**
 * The steps a deploy takes: the configured steps above where the new fleet stands now. A promote
 * always ends at 100, since that is what promoting means; a deploy whose last step is under 100
 * pauses there for a later, perhaps approved, promote.
 */
function planSteps(config, currentWeight, endAtFull) {
    const weights = config.trafficSteps.filter((w) => w > currentWeight);
    if (endAtFull && weights[weights.length - 1] !== 100)
        weights.push(100);
    return weights.map((weight) => ({ weight, holdMs: config.stepWaitMs }));
}
/** The pair's weights with `percent` of traffic on the new fleet. */
function splitWeights(newFleet, oldFleet, percent) {
    return { [newFleet]: percent, [oldFleet]: 100 - percent };
}
/**
 * What each route gets back on failure: all traffic on the stable fleet. A route that started
 * with all traffic on it gets its starting weights back exactly; a route caught mid-canary does
 * not, because the new fleet has just failed a check and must not keep any traffic.
 */
function planRestore(routes, stable, newFleet) {
    return Object.fromEntries(routes.map(({ route, weights }) => {
        const startedStable = weights[newFleet] === 0 && weights[stable] > 0;
        return [route.arn, startedStable ? { ...weights } : { [stable]: 100, [newFleet]: 0 }];
    }));
}
/** The whole plan: one function serves the dry-run and the real run, so they cannot differ. */
function planDeploy(input) {
    const oldFleet = input.pair.find((arn) => arn !== input.newFleet) ?? '';
    const steps = planSteps(input.config, input.currentWeight, input.endAtFull);
    const last = steps[steps.length - 1];
    return {
        newFleet: input.newFleet,
        oldFleet,
        instanceIds: input.instanceIds,
        steps,
        restore: planRestore(input.routes, oldFleet, input.newFleet),
        // No step at all is canary-steps 0: stage the new fleet and pause before any traffic.
        pauses: !input.endAtFull && (last === undefined || last.weight < 100),
        checks: input.checks,
        ...(input.prepare ? { prepare: input.prepare } : {})
    };
}

;// CONCATENATED MODULE: ./src/plan/forward-action.ts


/** The groups and weights of a route's forward action, in either form AWS returns. */
function forwardGroups(route) {
    const forward = route.actions.find((a) => a.Type === 'forward');
    if (!forward) {
        const types = route.actions.map((a) => a.Type).join(', ') || 'none';
        throw new errors/* DeployError */.sH(`${describeRoute(route)} does not forward to target groups (its actions: ${types}); give the listener or rule whose action forwards to the blue and green target groups`);
    }
    const groups = forward.ForwardConfig?.TargetGroups;
    if (groups && groups.length > 0) {
        // AWS omits Weight when it is the default, 1.
        return groups.map((g) => ({ arn: g.TargetGroupArn ?? '', weight: g.Weight ?? 1 }));
    }
    return forward.TargetGroupArn ? [{ arn: forward.TargetGroupArn, weight: 1 }] : [];
}
/** Finds the pair on one route: the given pair, or the two groups of its forward action. */
function pairOnRoute(route, given) {
    const groups = forwardGroups(route);
    const names = groups.map((g) => (0,config_arn/* targetGroupName */.IT)(g.arn)).join(', ');
    if (given) {
        for (const arn of [given.blue, given.green]) {
            if (!groups.some((g) => g.arn === arn)) {
                throw new errors/* DeployError */.sH(`${describeRoute(route)} forwards to ${names}, not to ${(0,config_arn/* targetGroupName */.IT)(arn)}; add ${(0,config_arn/* targetGroupName */.IT)(arn)} to its forward action (at weight 0 if idle) so that it is health-checked and can take traffic`);
            }
        }
        return [given.blue, given.green];
    }
    if (groups.length === 1) {
        throw new errors/* DeployError */.sH(`${describeRoute(route)} forwards only to ${names}; add the idle target group to its forward action at weight 0, so that it is health-checked and can take traffic`);
    }
    if (groups.length !== 2) {
        throw new errors/* DeployError */.sH(`${describeRoute(route)} forwards to ${groups.length} target groups (${names}); say which two are the pair with blue-target-group-arn and green-target-group-arn`);
    }
    return [groups[0].arn, groups[1].arn];
}
/** The pair shared by every route; routes that disagree are an error. */
function findPair(routes, given) {
    const pairs = routes.map((route) => pairOnRoute(route, given));
    const key = (p) => [...p].sort().join(' ');
    const first = pairs[0];
    pairs.forEach((pair, i) => {
        if (key(pair) !== key(first)) {
            throw new errors/* DeployError */.sH(`${describeRoute(routes[i])} forwards to ${pair.map(config_arn/* targetGroupName */.IT).join(' and ')} but ${describeRoute(routes[0])} to ${first.map(config_arn/* targetGroupName */.IT).join(' and ')}; every route given must forward to the same two target groups`);
        }
    });
    return first;
}
function pairWeights(route, pair) {
    const groups = forwardGroups(route);
    return Object.fromEntries(pair.map((arn) => [arn, groups.find((g) => g.arn === arn)?.weight ?? 0]));
}
/**
 * The route's action list with only the pair's weights (and stickiness, when asked) changed.
 * ModifyListener and ModifyRule replace the whole list, so every other action, its order and
 * any other target group in the forward action must go back exactly as read.
 */
function withWeights(route, weights, stickiness) {
    return route.actions.map((action) => {
        if (action.Type === 'forward')
            return forwardWithWeights(route, action, weights, stickiness);
        if (action.Type === 'authenticate-oidc' && action.AuthenticateOidcConfig) {
            // Describe never returns the client secret; without this flag the write would need it.
            return { ...action, AuthenticateOidcConfig: { ...action.AuthenticateOidcConfig, UseExistingClientSecret: true } };
        }
        return action;
    });
}
function forwardWithWeights(route, action, weights, stickiness) {
    const groups = forwardGroups(route).map((g) => ({
        TargetGroupArn: g.arn,
        Weight: g.arn in weights ? weights[g.arn] : g.weight
    }));
    const current = action.ForwardConfig?.TargetGroupStickinessConfig;
    const stickinessConfig = stickiness.mode === 'keep'
        ? current
        : stickiness.mode === 'off'
            ? { Enabled: false }
            : { Enabled: true, DurationSeconds: stickiness.durationSeconds };
    // The single TargetGroupArn form cannot hold weights; write ForwardConfig only, since AWS
    // rejects a TargetGroupArn that disagrees with a multi-group ForwardConfig.
    const { TargetGroupArn: _single, ...rest } = action;
    return {
        ...rest,
        ForwardConfig: {
            TargetGroups: groups,
            ...(stickinessConfig ? { TargetGroupStickinessConfig: stickinessConfig } : {})
        }
    };
}
function describeRoute(route) {
    return `${route.kind === 'listener' ? 'Listener' : 'Rule'} ${(0,config_arn/* routeLabel */.qA)(route.arn)}`;
}
/** Whether the route's forward action pins clients to a target group (group stickiness). */
function stickinessEnabled(route) {
    return route.actions.some((a) => a.Type === 'forward' && a.ForwardConfig?.TargetGroupStickinessConfig?.Enabled === true);
}

;// CONCATENATED MODULE: ./src/plan/traffic-state.ts



/** Reads the pair and its weights from the routes; a route forwarding to neither is an error. */
function readTrafficState(routes, given) {
    const pair = findPair(routes, given);
    const routeWeights = routes.map((route) => ({ route, weights: pairWeights(route, pair) }));
    for (const { route, weights } of routeWeights) {
        if (pair.every((arn) => weights[arn] === 0)) {
            throw new errors/* DeployError */.sH(`${describeRoute(route)} gives weight 0 to both ${pair.map(config_arn/* targetGroupName */.IT).join(' and ')}; give the live target group a weight above 0`);
        }
    }
    // Classified from the raw weights: a weight of 1 against 999 rounds to 0% but still sends traffic.
    const shares = routeWeights.map(({ weights }) => share(weights));
    const agree = shares.every((s) => pair.every((arn) => Math.abs(s[arn] - shares[0][arn]) < 1e-9));
    const first = routeWeights[0].weights;
    const live = agree
        ? pair.find((arn) => first[arn] > 0 && pair.every((other) => other === arn || first[other] === 0))
        : undefined;
    return {
        pair,
        routes: routeWeights,
        percent: agree ? toPercent(first) : undefined,
        live,
        idle: live ? pair.find((arn) => arn !== live) : undefined,
        mixed: agree && pair.every((arn) => first[arn] > 0)
    };
}
function share(weights) {
    const total = Object.values(weights).reduce((a, b) => a + b, 0);
    return Object.fromEntries(Object.entries(weights).map(([arn, w]) => [arn, total === 0 ? 0 : w / total]));
}
/** Weights as percent of the pair's total (ALB weights are relative, 0..999). */
function toPercent(weights) {
    const total = Object.values(weights).reduce((a, b) => a + b, 0);
    return Object.fromEntries(Object.entries(weights).map(([arn, w]) => [arn, total === 0 ? 0 : clampShare(w, total)]));
}
/** Percent of traffic per group, averaged over routes so that a split-brain shows as such. */
function averagePercent(routes, pair) {
    const percents = routes.map((r) => toPercent(pairWeights(r, pair)));
    return Object.fromEntries(pair.map((arn) => [arn, Math.round(percents.reduce((sum, p) => sum + p[arn], 0) / percents.length)]));
}
/** A one-line description of where traffic goes, for logs and errors. */
function describeWeights(weights) {
    return Object.entries(weights)
        .map(([arn, w]) => `${(0,config_arn/* targetGroupName */.IT)(arn)} ${w}`)
        .join(' / ');
}
// A group with any weight shows at least 1%, and one sharing traffic at most 99%, so that a
// percentage never claims a fleet is idle or takes everything when it does not.
function clampShare(weight, total) {
    if (weight === 0)
        return 0;
    if (weight === total)
        return 100;
    return Math.min(99, Math.max(1, Math.round((weight / total) * 100)));
}

;// CONCATENATED MODULE: ./src/plan/idle-fleet.ts


/** The idle fleet takes the deploy; a canary in progress or split routes must be resolved first. */
function chooseIdleFleet(traffic) {
    if (!traffic.percent) {
        throw new errors/* DeployError */.sH(`The routes disagree (${traffic.routes.map((r) => describeWeights(r.weights)).join(' vs ')}); a deploy was interrupted: run rollback, then deploy`);
    }
    if (traffic.mixed || !traffic.live || !traffic.idle) {
        throw new errors/* DeployError */.sH(`A canary is in progress (${describeWeights(traffic.percent)}); run promote to finish it or rollback to undo it, then deploy`);
    }
    return { newFleet: traffic.idle, stableFleet: traffic.live };
}

// EXTERNAL MODULE: ./src/config/duration.ts + 2 modules
var duration = __webpack_require__(2824);
;// CONCATENATED MODULE: ./src/plan/preflight.ts



/** The target groups a route forwards to; none when its action is not a forward. */
function forwardTargets(route) {
    const forward = route.actions.find((a) => a.Type === 'forward');
    if (!forward)
        return [];
    const groups = forward.ForwardConfig?.TargetGroups ?? [];
    const arns = groups.map((g) => g.TargetGroupArn ?? '');
    if (forward.TargetGroupArn)
        arns.push(forward.TargetGroupArn);
    return [...new Set(arns.filter(Boolean))];
}
/**
 * A listener's default rule given in rule-arns: ModifyRule cannot change it (AWS answers
 * OperationNotPermitted), so the deploy would fail at its first shift, after the commands ran.
 */
function defaultRuleProblem(listed) {
    const rule = listed.find((r) => r.kind === 'rule' && r.isDefault);
    if (!rule)
        return undefined;
    return new errors/* InputError */.dz('rule-arns', rule.arn, "accepted: listener rules other than a listener's default rule (ModifyRule cannot change a default rule): give that listener's ARN in listener-arns instead");
}
/**
 * Every other route of the load balancers that forwards to either group of the pair. Left as they
 * are, they would keep sending traffic to the fleet a flip just left, and a later deploy would run
 * its commands on a fleet they still send traffic to.
 */
function unlistedRoutes(all, listed, pair, exempt = []) {
    const given = new Set([...listed.map((r) => r.arn), ...exempt]);
    return all.filter((route) => !given.has(route.arn) && forwardTargets(route).some((arn) => pair.includes(arn)));
}
/** `exempt`: routes that forward to the pair by design (this action's own preview rules). */
function unlistedRoutesProblem(all, listed, pair, given, exempt = []) {
    const missing = unlistedRoutes(all, listed, pair, exempt);
    if (missing.length === 0)
        return undefined;
    const input = missing.some((r) => r.kind === 'listener') ? 'listener-arns' : 'rule-arns';
    const value = (input === 'listener-arns' ? given.listenerArns : given.ruleArns).join(',');
    const names = pair.map(config_arn/* targetGroupName */.IT).join(' or ');
    const shown = missing
        .slice(0, 5)
        .map((r) => `${(0,config_arn/* routeLabel */.qA)(r.arn)} (${r.arn})`)
        .join(', ');
    const more = missing.length > 5 ? ` and ${missing.length - 5} more` : '';
    return new errors/* InputError */.dz(input, value, `accepted: every listener and rule that forwards to ${names}; these forward to them too and are missing: ${shown}${more}. Add them to listener-arns or rule-arns: a shift that left them would keep them sending traffic to the fleet it left`);
}
/**
 * The health wait counts a target healthy on the new code only once the load balancer has had
 * time to mark a restarted app unhealthy (interval × unhealthy threshold): a health-timeout
 * shorter than that can never be met, and would fail only after the commands ran.
 */
function minimumHealthTimeoutMs(cadence) {
    return cadence.detectUnhealthyMs;
}
function healthTimeoutProblem(healthTimeoutMs, cadence, group) {
    const minimum = minimumHealthTimeoutMs(cadence);
    if (healthTimeoutMs >= minimum)
        return undefined;
    const threshold = Math.round(cadence.detectUnhealthyMs / cadence.intervalMs);
    return new errors/* InputError */.dz('health-timeout', (0,duration/* formatDuration */.a)(healthTimeoutMs), `accepted: at least ${(0,duration/* formatDuration */.a)(minimum)}, the time ${(0,config_arn/* targetGroupName */.IT)(group)}'s health checks take to mark a restarted target unhealthy (interval ${(0,duration/* formatDuration */.a)(cadence.intervalMs)} × unhealthy threshold ${threshold}); the wait for health on the new code cannot be shorter`);
}

;// CONCATENATED MODULE: ./src/plan/run-once-plan.ts

/** The input each hook comes from, as the user wrote it. */
const HOOK_INPUT = {
    'before-traffic': 'before-traffic-commands',
    contract: 'contract-commands'
};
/**
 * The instance a hook runs on: the first healthy one by id, so that a dry run names the same
 * instance the real run uses.
 */
function chooseHookInstance(instanceIds, health = []) {
    const healthy = new Set(health.filter((h) => h.state === 'healthy').map((h) => h.id));
    const sorted = [...instanceIds].sort();
    return sorted.find((id) => healthy.has(id)) ?? (health.length === 0 ? sorted[0] : undefined);
}
/** The deploy's document parameters with the hook's lines as its commands. */
function hookParameters(documentParameters, lines) {
    return { ...documentParameters, commands: lines };
}
/** What the plan promises about the hooks, one line each, in the order they run. */
function describeHooks(config, plan) {
    const on = `once, on ${plan.instanceId ?? 'one instance'} of ${(0,config_arn/* targetGroupName */.IT)(plan.newFleet)}`;
    const lines = [];
    if (config.operation === 'deploy' && config.beforeTrafficCommands.length > 0) {
        lines.push(`before-traffic-commands (${count(config.beforeTrafficCommands)}): ${on}, after its commands and health checks, before any traffic moves; a failure moves no traffic`);
    }
    if (config.contractCommands.length > 0) {
        lines.push(plan.pauses
            ? `contract-commands: not run by this ${config.operation}, which pauses before 100%; give them to the promote that finishes it`
            : `contract-commands (${count(config.contractCommands)}): ${on}, after it took all traffic and the final hold passed; from then on rollback to ${(0,config_arn/* targetGroupName */.IT)(plan.oldFleet)} is refused`);
    }
    return lines;
}
function count(lines) {
    return `${lines.length} line${lines.length === 1 ? '' : 's'}`;
}

;// CONCATENATED MODULE: ./src/plan/staged-canary.ts


/**
 * A canary staged at 0% (canary-steps 0): all traffic on one fleet, the other recorded as the
 * canary. It is in progress like a canary at 10%: reviewers may be about to promote it.
 */
function stagedCanary(traffic, fleets) {
    if (traffic.mixed || !traffic.live || !traffic.idle)
        return undefined;
    return fleets[traffic.idle]?.record.role === 'canary' ? traffic.idle : undefined;
}
/**
 * A new deploy would overwrite a staged canary that an approved promote is about to finish, and
 * the promote would then ship the version nobody approved.
 */
function refuseOverStagedCanary(traffic, fleets) {
    const staged = stagedCanary(traffic, fleets);
    if (!staged)
        return;
    const version = fleets[staged].record.version;
    throw new errors/* DeployError */.sH(`A canary${version ? ` of ${version}` : ''} is staged at 0% on ${(0,config_arn/* targetGroupName */.IT)(staged)}; run promote to finish it or rollback to drop it, then deploy`);
}

;// CONCATENATED MODULE: ./src/records/fleet-records.ts
// What the action remembers between runs lives on AWS, as tags on the pair's target groups, so a
// promote in a later (approved) job or a `status` from a laptop sees the same facts as the deploy.
const TAG = {
    version: 'bluegreen:version',
    role: 'bluegreen:role',
    deployedAt: 'bluegreen:deployed-at',
    deployedBy: 'bluegreen:deployed-by'
};
function recordFromTags(tags) {
    const role = tags[TAG.role];
    return {
        version: tags[TAG.version],
        role: ['live', 'previous', 'canary', 'failed', 'deploying'].includes(role) ? role : undefined,
        deployedAt: tags[TAG.deployedAt],
        deployedBy: tags[TAG.deployedBy]
    };
}
function tagsFromRecord(record) {
    const tags = {};
    if (record.version !== undefined)
        tags[TAG.version] = record.version;
    if (record.role !== undefined)
        tags[TAG.role] = record.role;
    if (record.deployedAt !== undefined)
        tags[TAG.deployedAt] = record.deployedAt;
    if (record.deployedBy !== undefined)
        tags[TAG.deployedBy] = tagSafe(record.deployedBy);
    return tags;
}
function tagSafe(text) {
    return text.replace(/[^\p{L}\p{Z}\p{N}_.:/=+\-@]/gu, '-').slice(0, 256);
}

;// CONCATENATED MODULE: ./src/records/write-records.ts




/** Writes a fleet's record on AWS, where a later job (a promote, a status) reads it. */
async function writeRecord(ctx, guard, arn, fleetRecord) {
    await guard(`Recording ${(0,config_arn/* targetGroupName */.IT)(arn)} as ${fleetRecord.role}`, () => (0,elbv2/* writeTags */.p)(ctx.clients.elb, arn, tagsFromRecord(fleetRecord)));
}
/**
 * Records a fleet once traffic has settled: a failed tag write then must not turn the run's result
 * around (the weights are what they are), so it becomes a warning in the log and the summary. A run
 * that lost the lock writes nothing: the records are the new holder's to write.
 */
async function recordAfterTraffic(ctx, guard, warnings, arn, fleetRecord) {
    await recordFleetsAfterTraffic(ctx, guard, warnings, [[arn, fleetRecord]]);
}
/**
 * Several fleets' records, as recordAfterTraffic, written side by side under one look at the lock:
 * the end of a run writes both, and a look per record would cost a round trip each.
 */
async function recordFleetsAfterTraffic(ctx, guard, warnings, records) {
    const what = records.map(([arn, r]) => `${(0,config_arn/* targetGroupName */.IT)(arn)} as ${r.role}`).join(' and ');
    await guard(`Recording ${what}`, () => Promise.all(records.map(([arn, fleetRecord]) => (0,elbv2/* writeTags */.p)(ctx.clients.elb, arn, tagsFromRecord(fleetRecord)).catch((e) => {
        const message = `Could not record ${(0,config_arn/* targetGroupName */.IT)(arn)} as ${fleetRecord.role} (${e.message}); status will show stale records until the next run`;
        ctx.log.warning(message);
        warnings.push(message);
    })))).catch((e) => {
        if (e instanceof errors/* LockLostError */.yx)
            throw e;
        const message = `Could not record ${what} (${e.message}); status will show stale records until the next run`;
        ctx.log.warning(message);
        warnings.push(message);
    });
}
/**
 * The new fleet's record through a deploy: `deploying` before the commands go out, `canary` once
 * it may take traffic, `failed` when they went out and the deploy failed. A deploy that stops
 * before sending anything puts the record back as it was, so the fleet stays a valid rollback
 * target. `deploying` is on AWS before the first command: a rollback forced meanwhile reads it and
 * will not send traffic to a fleet whose code is changing.
 */
class DeployRecord {
    ctx;
    guard;
    arn;
    before;
    wrote = false;
    current;
    constructor(ctx, guard, arn, before, next) {
        this.ctx = ctx;
        this.guard = guard;
        this.arn = arn;
        this.before = before;
        this.current = next;
    }
    async markDeploying() {
        await writeRecord(this.ctx, this.guard, this.arn, this.current);
        this.wrote = true;
    }
    async mark(role) {
        this.current = { ...this.current, role };
        await writeRecord(this.ctx, this.guard, this.arn, this.current);
    }
    /** The ending before traffic moved: failed when commands went out, else as it was. */
    async endBeforeTraffic(commandsSent) {
        if (commandsSent) {
            this.current = { ...this.current, role: 'failed' };
            await writeRecord(this.ctx, this.guard, this.arn, this.current).catch((e) => this.ctx.log.warning(`Could not record the failed deploy: ${e.message}`));
            return this.current;
        }
        if (this.wrote)
            await restoreRecord(this.ctx, this.guard, this.arn, this.before);
        this.current = this.before;
        return this.before;
    }
}
/** Puts a fleet's record back as it was: the tags it had, and none of those it did not. */
async function restoreRecord(ctx, guard, arn, before) {
    const tags = tagsFromRecord(before);
    const written = [TAG.version, TAG.role, TAG.deployedAt, TAG.deployedBy].filter((key) => !(key in tags));
    await guard(`Putting ${(0,config_arn/* targetGroupName */.IT)(arn)}'s record back`, async () => {
        await (0,elbv2/* writeTags */.p)(ctx.clients.elb, arn, tags);
        await (0,elbv2/* removeTags */._M)(ctx.clients.elb, arn, written);
    }).catch(() => undefined);
}

;// CONCATENATED MODULE: ./src/plan/check-timing.ts

/** The time after a bad answer when an alarm can first say ALARM. */
function alarmSeesAfterMs(alarm, metricsDelayMs) {
    if (!alarm.periodS)
        return undefined;
    return alarm.periodS * 1000 * Math.max(1, alarm.evaluationPeriods ?? 1) + metricsDelayMs;
}
/** The alarms that cannot have seen a step held `stepWaitMs`, one warning each, saying what to change. */
function alarmTimingWarnings(alarms, stepWaitMs, metricsDelayMs) {
    return alarms.flatMap((a) => {
        const after = alarmSeesAfterMs(a, metricsDelayMs);
        if (after === undefined || after <= stepWaitMs)
            return [];
        const periods = a.evaluationPeriods ?? 1;
        return [
            `alarm ${a.name} needs about ${(0,duration/* formatDuration */.a)(after)} (period ${(0,duration/* formatDuration */.a)((a.periodS ?? 0) * 1000)} x ${periods} evaluation period${periods > 1 ? 's' : ''} + metrics-delay ${(0,duration/* formatDuration */.a)(metricsDelayMs)}) to see a bad answer, longer than step-wait ${(0,duration/* formatDuration */.a)(stepWaitMs)}: a step can end before this alarm has seen it; raise step-wait to ${(0,duration/* formatDuration */.a)(after)} or more`
        ];
    });
}
/** Whether anything but target health watches the steps, and whether the judge can judge them. */
function watchWarnings(t) {
    const warnings = [];
    if (t.analysis && t.stepWaitMs === 0) {
        warnings.push('step-wait is 0: the canary judge cannot judge steps that are not held; give step-wait a few minutes, or set canary-analysis: false');
    }
    if (!t.analysis && t.alarms === 0) {
        warnings.push("nothing watches the new fleet's answers during the steps (canary-analysis is off and no alarms are given): only target health can stop a bad release");
    }
    return warnings;
}

;// CONCATENATED MODULE: ./src/aws/cloudwatch.ts


/**
 * The current state of each named alarm, composite alarms included (DescribeAlarms returns only
 * metric alarms unless asked). A name that matches no alarm is an error: a misspelt alarm would
 * otherwise never fire, and the canary would be watched by nothing.
 */
async function readAlarms(cloudwatch, names) {
    if (names.length === 0)
        return [];
    const found = new Map();
    let NextToken;
    do {
        const page = await cloudwatch.send(new client_cloudwatch_dist_cjs/* DescribeAlarmsCommand */.zWD({
            AlarmNames: names,
            AlarmTypes: ['MetricAlarm', 'CompositeAlarm'],
            MaxRecords: 100,
            NextToken
        }));
        for (const alarm of page.MetricAlarms ?? []) {
            if (!alarm.AlarmName)
                continue;
            const mathPeriods = (alarm.Metrics ?? []).map((m) => m.MetricStat?.Period ?? m.Period ?? 0);
            const periodS = alarm.Period ?? (mathPeriods.length > 0 ? Math.max(...mathPeriods) : undefined);
            found.set(alarm.AlarmName, {
                name: alarm.AlarmName,
                state: alarm.StateValue ?? 'UNKNOWN',
                reason: alarm.StateReason,
                ...(periodS ? { periodS } : {}),
                ...(alarm.EvaluationPeriods ? { evaluationPeriods: alarm.EvaluationPeriods } : {})
            });
        }
        for (const alarm of page.CompositeAlarms ?? []) {
            if (alarm.AlarmName) {
                found.set(alarm.AlarmName, {
                    name: alarm.AlarmName,
                    state: alarm.StateValue ?? 'UNKNOWN',
                    reason: alarm.StateReason
                });
            }
        }
        NextToken = page.NextToken;
    } while (NextToken);
    const missing = names.filter((n) => !found.has(n));
    if (missing.length > 0) {
        throw new errors/* DeployError */.sH(`Alarm${missing.length > 1 ? 's' : ''} ${missing.join(', ')} not found in CloudWatch; check the names in alarms and the region`);
    }
    return names.map((n) => found.get(n));
}

;// CONCATENATED MODULE: ./src/traffic/checks/alarms.ts


/**
 * The user's CloudWatch alarms: any of them in ALARM fails the step. `metricsDelayMs` is how late
 * their data arrives, for the plan's warning about steps too short for them to see.
 */
function alarmsCheck(cloudwatch, names, metricsDelayMs) {
    if (names.length === 0) {
        return { name: 'alarms', describe: [], look: async () => ({ ok: true, line: 'no alarms watched' }) };
    }
    let seen = [];
    const look = async () => {
        seen = await readAlarms(cloudwatch, names);
        return judgeAlarms(names, seen);
    };
    return {
        name: 'alarms',
        describe: names.map((name) => `alarm ${name} not in ALARM`),
        gate: look,
        look,
        timingWarnings: (stepWaitMs) => alarmTimingWarnings(seen, stepWaitMs, metricsDelayMs)
    };
}
/**
 * ALARM fails the step. INSUFFICIENT_DATA does not: it is what a count alarm shows while nothing
 * goes wrong (ALB publishes HTTPCode_Target_5XX_Count only when there are 5xx) and what any alarm
 * shows before enough periods passed, so failing on it would fail healthy canaries. It is not shown
 * as OK either: the log, the timeline and the summary say that the alarm could not tell.
 */
function judgeAlarms(names, alarms) {
    const fired = alarms.filter((a) => a.state === 'ALARM');
    if (fired.length > 0) {
        const reason = fired[0].reason?.replace(/[.\s]+$/, '');
        return { ok: false, line: `alarm ${fired.map((a) => a.name).join(', ')} in ALARM${reason ? `: ${reason}` : ''}` };
    }
    const blind = alarms.filter((a) => a.state === 'INSUFFICIENT_DATA').map((a) => a.name);
    if (blind.length === 0)
        return { ok: true, line: `alarms ${names.join(', ')} OK` };
    const ok = names.filter((n) => !blind.includes(n));
    return {
        ok: true,
        line: [ok.length > 0 ? `alarms ${ok.join(', ')} OK` : '', `alarm ${blind.join(', ')}: insufficient data`]
            .filter(Boolean)
            .join('; '),
        warning: `Alarm ${blind.join(', ')} had insufficient data during a hold, so it could not tell whether the new version is healthy (insufficient data does not fail a step); if missing data means no errors, set its TreatMissingData to notBreaching`
    };
}

;// CONCATENATED MODULE: ./src/aws/metric-data.ts


/**
 * Reads the queries' datapoints over [start, end), oldest first, following NextToken until every
 * page is in. A query CloudWatch reports as InternalError makes the read incomplete: the caller
 * treats the look as "no verdict yet" rather than as zero. A missing permission is an error the
 * user must fix, named with the action to grant.
 */
async function readMetricData(cloudwatch, queries, start, end) {
    const series = new Map();
    let incomplete = false;
    let NextToken;
    do {
        let page;
        try {
            page = await cloudwatch.send(new client_cloudwatch_dist_cjs/* GetMetricDataCommand */.Soe({
                MetricDataQueries: queries,
                StartTime: new Date(start),
                EndTime: new Date(end),
                ScanBy: 'TimestampAscending',
                NextToken
            }));
        }
        catch (error) {
            const name = error.name;
            if (name === 'AccessDenied' || name === 'AccessDeniedException') {
                throw new errors/* DeployError */.sH(`Reading the load balancer metrics was denied (${error.message}); grant cloudwatch:GetMetricData on "*" to the deploy role, or set canary-analysis: false`);
            }
            throw error;
        }
        for (const result of page.MetricDataResults ?? []) {
            if (!result.Id)
                continue;
            if (result.StatusCode === 'InternalError' || result.StatusCode === 'Forbidden')
                incomplete = true;
            const list = series.get(result.Id) ?? [];
            const values = result.Values ?? [];
            (result.Timestamps ?? []).forEach((t, i) => {
                if (values[i] !== undefined)
                    list.push({ at: t.getTime(), value: values[i] });
            });
            series.set(result.Id, list);
        }
        NextToken = page.NextToken;
    } while (NextToken);
    for (const list of series.values())
        list.sort((a, b) => a.at - b.at);
    return { series, incomplete };
}

// EXTERNAL MODULE: ./node_modules/@stdlib/stats-base-dists-hypergeometric-cdf/lib/index.js
var lib = __webpack_require__(1444);
var lib_default = /*#__PURE__*/__webpack_require__.n(lib);
;// CONCATENATED MODULE: ./src/plan/canary-judgement.ts

/** One-sided significance levels: a good release is rolled back by chance at most this often. */
const SIGNIFICANCE = { final: 0.05, interim: 0.001 };
/**
 * One failed request is never fatal, whatever the baseline: on a canary's first few requests a
 * single error against a spotless stable fleet can look significant (one error on its only
 * request, against a thousand clean ones, is p = 0.001), yet it is one request.
 */
const MIN_ERRORS_TO_FAIL = 2;
/**
 * A latency rise smaller than this never fails: a fast service's latency moves by a few
 * milliseconds with load alone, which as a percentage of 5 ms would look like a regression.
 */
const LATENCY_NOISE_MS = 10;
/**
 * A p99 is compared only over this many requests on each fleet: on a few hundred it is the
 * slowest two or three answers, which one pause of a loaded host decides.
 */
const P99_MIN_REQUESTS = 1000;
/**
 * Compares the new fleet with the stable one serving the same traffic at the same time.
 *
 * Error rate fails only when the new fleet's share of failed answers is higher than the stable
 * fleet's by more than the tolerance AND a one-sided Fisher exact test says the difference is not
 * chance at the look's level. The exact test stays correct for the small counts of a canary: one
 * error among the new fleet's first requests against a spotless baseline is not significant (and
 * one error never fails a step, MIN_ERRORS_TO_FAIL), while a large baseline makes the test sharper,
 * never blunter. Latency fails when the new fleet's average (or, over P99_MIN_REQUESTS, its p99)
 * is above the stable fleet's by more than its tolerance and LATENCY_NOISE_MS; it is judged only on
 * at least `minRequests` requests on both fleets and only at the final look: without a test of
 * significance for it, an early look would let the first slow seconds of a step decide. Fewer than `minRequests` on the new fleet, or none on the stable
 * one, cannot pass: the verdict is inconclusive.
 */
function judgeCanary(newFleet, stable, policy, look) {
    if (newFleet.requests === 0) {
        return {
            verdict: 'inconclusive',
            metric: 'requests',
            reason: 'no requests reached the new fleet in the window (or CloudWatch has not published them yet)'
        };
    }
    if (stable.requests === 0) {
        return {
            verdict: 'inconclusive',
            metric: 'requests',
            reason: 'no requests reached the stable fleet in the window: nothing to compare with'
        };
    }
    const alpha = SIGNIFICANCE[look];
    const rateNew = newFleet.errors / newFleet.requests;
    const rateStable = stable.errors / stable.requests;
    const pValue = fisherOneSided(newFleet.errors, newFleet.requests, stable.errors, stable.requests);
    const errorRate = { new: rateNew, stable: rateStable, increase: rateNew - rateStable, pValue };
    const rates = `5xx rate ${pct(rateNew)} on the new fleet (${newFleet.errors}/${newFleet.requests}) vs ${pct(rateStable)} on the stable one (${stable.errors}/${stable.requests})`;
    if (errorRate.increase > policy.maxErrorRateIncrease && pValue < alpha && newFleet.errors >= MIN_ERRORS_TO_FAIL) {
        return {
            verdict: 'fail',
            metric: 'error-rate',
            reason: `${rates}: +${points(errorRate.increase)}, over the tolerated +${points(policy.maxErrorRateIncrease)}, and significant (p=${formatP(pValue)} < ${alpha})`,
            errorRate
        };
    }
    const enough = newFleet.requests >= policy.minRequests && stable.requests >= policy.minRequests;
    const latency = enough && look === 'final' ? compareLatency(newFleet, stable) : undefined;
    const slower = latency && ['avg', 'p99'].find((k) => exceeds(latency[k], policy.maxLatencyIncrease));
    if (latency && slower) {
        const c = latency[slower];
        return {
            verdict: 'fail',
            metric: 'latency',
            reason: `TargetResponseTime ${slower} ${ms(c.newMs)} on the new fleet vs ${ms(c.stableMs)} on the stable one: +${Math.round(c.increase * 100)}%, over the tolerated +${Math.round(policy.maxLatencyIncrease * 100)}%`,
            errorRate,
            latency
        };
    }
    if (newFleet.requests < policy.minRequests) {
        return {
            verdict: 'inconclusive',
            metric: 'requests',
            reason: `only ${newFleet.requests} requests on the new fleet, fewer than analysis-min-requests (${policy.minRequests}); ${rates}`,
            errorRate
        };
    }
    if (stable.requests < policy.minRequests) {
        return {
            verdict: 'inconclusive',
            metric: 'requests',
            reason: `only ${stable.requests} requests on the stable fleet to compare with, fewer than analysis-min-requests (${policy.minRequests}); ${rates}`,
            errorRate
        };
    }
    const why = errorRate.increase > policy.maxErrorRateIncrease
        ? `not significant (p=${formatP(pValue)})`
        : `within +${points(policy.maxErrorRateIncrease)}`;
    const lat = latency?.avg
        ? `; latency avg ${ms(latency.avg.newMs)} vs ${ms(latency.avg.stableMs)}${latency.p99 ? `, p99 ${ms(latency.p99.newMs)} vs ${ms(latency.p99.stableMs)}` : ''}, within +${Math.round(policy.maxLatencyIncrease * 100)}%`
        : '';
    return { verdict: 'pass', reason: `${rates}, ${why}${lat}`, errorRate, latency };
}
/**
 * P(the new fleet gets at least `a` of the errors) if errors fell on requests regardless of fleet:
 * the one-sided p-value of Fisher's exact test. That count follows a hypergeometric law; its upper
 * tail equals the lower tail of the new fleet's successes, so one CDF call gives it without the
 * cancellation of 1 - cdf (p-values of 1e-12 stay exact).
 */
function fisherOneSided(newErrors, newTotal, stableErrors, stableTotal) {
    const total = newTotal + stableTotal;
    const errors = newErrors + stableErrors;
    if (errors === 0 || newErrors === 0)
        return 1;
    return Math.min(1, lib_default()(newTotal - newErrors, total, total - errors, newTotal));
}
function compareLatency(newFleet, stable) {
    const compare = (n, s) => n === undefined || s === undefined || s <= 0 ? undefined : { newMs: n, stableMs: s, increase: n / s - 1 };
    const avg = compare(newFleet.latencyAvgMs, stable.latencyAvgMs);
    const p99 = Math.min(newFleet.requests, stable.requests) >= P99_MIN_REQUESTS
        ? compare(newFleet.latencyP99Ms, stable.latencyP99Ms)
        : undefined;
    return avg || p99 ? { avg, p99 } : undefined;
}
function exceeds(c, tolerance) {
    return !!c && c.increase > tolerance && c.newMs - c.stableMs > LATENCY_NOISE_MS;
}
/** A share as a percentage, with a second decimal only where the rates live (under 1%). */
function pct(x) {
    return x === 0 ? '0%' : `${(x * 100).toFixed(x < 0.01 ? 2 : 1)}%`;
}
/** A rise of a rate in percentage points: `1 point`, `0.5 points`. */
function points(x) {
    const n = (x * 100).toFixed(2).replace(/\.?0+$/, '');
    return `${n} point${n === '1' ? '' : 's'}`;
}
function ms(x) {
    return x >= 1000 ? `${(x / 1000).toFixed(2)} s` : `${Math.round(x)} ms`;
}
function formatP(p) {
    return p < 1e-6 ? '<1e-6' : p < 0.001 ? p.toExponential(1) : p.toFixed(3);
}

;// CONCATENATED MODULE: ./src/plan/canary-metrics.ts
// What the canary judge asks CloudWatch, and how it reads the answer back, as pure functions of
// the ARNs, the window and the datapoints. The load balancer publishes these per target group
// with two dimensions, `LoadBalancer=app/<name>/<id>` and `TargetGroup=targetgroup/<name>/<id>`;
// only that exact combination has the per-fleet numbers.
const NAMESPACE = 'AWS/ApplicationELB';
const MINUTE = 60_000;
/** `app/<name>/<id>` from a listener or listener rule ARN of an Application Load Balancer. */
function loadBalancerDimension(routeArn) {
    return /:listener(?:-rule)?\/(app\/[^/]+\/[^/]+)\//.exec(routeArn)?.[1];
}
/** `targetgroup/<name>/<id>` from a target group ARN. */
function targetGroupDimension(targetGroupArn) {
    return /:(targetgroup\/[^/]+\/[^/]+)$/.exec(targetGroupArn)?.[1] ?? targetGroupArn;
}
/** The load balancers of the routes, once each: a pair's routes normally share one. */
function loadBalancerDimensions(routeArns) {
    return [...new Set(routeArns.map(loadBalancerDimension).filter((d) => d !== undefined))];
}
function metricWindow(from, now) {
    const start = Math.floor(from / MINUTE) * MINUTE;
    return { start, end: Math.max(start + MINUTE, Math.ceil((now + 1) / MINUTE) * MINUTE) };
}
const COUNTS = {
    req: 'RequestCount',
    t5xx: 'HTTPCode_Target_5XX_Count',
    conn: 'TargetConnectionErrorCount'
};
const id = (fleet, lb, what) => `${fleet}${lb}_${what}`;
/**
 * Queries for one fleet (`fleet` is a short lowercase name, e.g. `n` or `s`): its counts per
 * minute (Sum: Minimum, Maximum and Average of an ALB count are all 1) and its response time
 * over the whole window in one datapoint (a period as long as the window), so that the average
 * and the p99 are CloudWatch's own over every request, not an average of per-minute figures.
 */
function fleetQueries(fleet, loadBalancers, targetGroup, window) {
    const wholeWindow = (window.end - window.start) / 1000;
    return loadBalancers.flatMap((lb, i) => {
        const metric = (MetricName) => ({
            Namespace: NAMESPACE,
            MetricName,
            Dimensions: [
                { Name: 'LoadBalancer', Value: lb },
                { Name: 'TargetGroup', Value: targetGroup }
            ]
        });
        return [
            ...Object.entries(COUNTS).map(([what, name]) => ({
                Id: id(fleet, i, what),
                MetricStat: { Metric: metric(name), Period: 60, Stat: 'Sum' }
            })),
            {
                Id: id(fleet, i, 'avg'),
                MetricStat: { Metric: metric('TargetResponseTime'), Period: wholeWindow, Stat: 'Average' }
            },
            {
                Id: id(fleet, i, 'p99'),
                MetricStat: { Metric: metric('TargetResponseTime'), Period: wholeWindow, Stat: 'p99' }
            }
        ];
    });
}
/** The load balancer's own request count: a query that only proves the metrics can be read. */
function loadBalancerRequests(loadBalancer, i) {
    return {
        Id: `lb${i}_req`,
        MetricStat: {
            Metric: {
                Namespace: NAMESPACE,
                MetricName: 'RequestCount',
                Dimensions: [{ Name: 'LoadBalancer', Value: loadBalancer }]
            },
            Period: 60,
            Stat: 'Sum'
        }
    };
}
/**
 * A fleet's numbers over the window, filling gaps only where ALB's reporting rules allow it. A
 * minute counts when its RequestCount has arrived; in such a minute a missing 5xx or connection
 * error count is zero (ALB reports those only when nonzero). A minute without RequestCount is no
 * data, not zero requests: it may not be published yet, and its 5xx, if any, are left out too, so
 * numerator and denominator always cover the same minutes.
 */
function fleetEvidence(fleet, loadBalancers, series) {
    const minutes = new Set();
    const sample = { requests: 0, errors: 0, target5xx: 0, connectionErrors: 0 };
    let latencyWeight = 0;
    let latencySum = 0;
    for (let i = 0; i < loadBalancers; i++) {
        const byMinute = (what) => new Map((series.get(id(fleet, i, what)) ?? []).map((p) => [p.at, p.value]));
        const requests = byMinute('req');
        const target5xx = byMinute('t5xx');
        const connection = byMinute('conn');
        let served = 0;
        for (const [minute, count] of requests) {
            minutes.add(minute);
            served += count;
            sample.target5xx += target5xx.get(minute) ?? 0;
            sample.connectionErrors += connection.get(minute) ?? 0;
        }
        sample.requests += served;
        const avg = series.get(id(fleet, i, 'avg'))?.[0]?.value;
        const p99 = series.get(id(fleet, i, 'p99'))?.[0]?.value;
        if (avg !== undefined && served > 0) {
            latencySum += avg * 1000 * served;
            latencyWeight += served;
        }
        // Several load balancers (rare: a pair is normally behind one): the worst p99 stands for all.
        if (p99 !== undefined)
            sample.latencyP99Ms = Math.max(sample.latencyP99Ms ?? 0, p99 * 1000);
    }
    sample.errors = sample.target5xx + sample.connectionErrors;
    if (latencyWeight > 0)
        sample.latencyAvgMs = latencySum / latencyWeight;
    return { sample, minutes: [...minutes].sort((a, b) => a - b) };
}

;// CONCATENATED MODULE: ./src/plan/canary-windows.ts

// When the canary judge looks, and at what. Pure: times in, windows and deadlines out.
const canary_windows_MINUTE = 60_000;
/**
 * How far before the first shift the stable fleet's own traffic is taken as the baseline for a
 * step that gives the new fleet everything (the last step, or an all-at-once flip): at 100% the
 * stable fleet serves nothing to compare with at the same time, so its most recent minutes with
 * the whole traffic stand in.
 */
const BASELINE_LOOKBACK_MS = 5 * canary_windows_MINUTE;
/**
 * The new fleet is judged on the minutes of its step (the first of them may hold the end of the
 * step before, the same version at a lower weight). The stable fleet is judged on the same minutes
 * while it has weight; at 100% on the new fleet, on its traffic from BASELINE_LOOKBACK_MS before
 * the first shift up to this step.
 */
function analysisWindows(step, firstShiftAt, now) {
    const newFleet = metricWindow(step.startedAt, now);
    if (step.weight < 100)
        return { newFleet, stable: newFleet, stableFromBaseline: false };
    return {
        newFleet,
        stable: metricWindow(firstShiftAt - BASELINE_LOOKBACK_MS, step.startedAt),
        stableFromBaseline: true
    };
}
/**
 * How long the judge waits for the data of a hold that ended at `holdEnd`: metrics-delay more.
 * It gives its verdict as soon as the step's last minute has arrived, or at this time with
 * whatever has: the step's last seconds may then be missing, which a verdict on the minutes
 * before can afford better than a step held for ever.
 */
function dataDueAt(holdEnd, metricsDelayMs) {
    return holdEnd + metricsDelayMs;
}
/** Whether the minute holding the hold's last moment has arrived for the new fleet. */
function holdCovered(minutesWithData, holdEnd) {
    const last = Math.floor((holdEnd - 1) / canary_windows_MINUTE) * canary_windows_MINUTE;
    return minutesWithData.includes(last);
}

;// CONCATENATED MODULE: ./src/traffic/checks/canary-analysis.ts





/** Keep going this long before a deadline: the verdict must come before the run's time is up. */
const DEADLINE_MARGIN_MS = 30_000;
/**
 * The canary judge as a hold check: the new fleet against the stable one on the load balancer's
 * own per-target-group metrics. During a hold every look is an interim judgement that fails the
 * step only on overwhelming evidence (the stricter interim level), so a clearly bad version is
 * rolled back as soon as CloudWatch has published a minute of it. When the step's time is up the
 * judge waits, with the step still held and every check watching, until the data of the step's
 * last minute has arrived or metrics-delay has passed, then gives its final verdict. A step with
 * too few requests is held once more for step-wait; if it stays inconclusive it passes with a
 * warning, or fails with analysis-inconclusive: fail.
 */
function canaryAnalysisCheck(deps) {
    const { config, clock } = deps;
    const policy = {
        maxErrorRateIncrease: config.maxErrorRateIncrease,
        maxLatencyIncrease: config.maxLatencyIncrease,
        minRequests: config.minRequests
    };
    const loadBalancers = loadBalancerDimensions(deps.routeArns);
    let firstShiftAt;
    /** Per step (keyed by its start): the extension, if any, and the last reading. */
    const steps = new Map();
    function stepState(window) {
        const state = steps.get(key(window)) ?? {};
        steps.set(key(window), state);
        return state;
    }
    async function evidence(window) {
        const state = stepState(window);
        const now = clock.now();
        if (state.cache?.at === now)
            return state.cache.evidence;
        if (window.step > 0)
            firstShiftAt = Math.min(firstShiftAt ?? window.startedAt, window.startedAt);
        // A paused canary is judged on its recent minutes at the weight it has been holding.
        const from = window.step === 0 ? window.startedAt - BASELINE_LOOKBACK_MS : window.startedAt;
        const windows = analysisWindows({ startedAt: from, weight: window.weight }, firstShiftAt ?? from, now);
        const newTg = targetGroupDimension(window.newFleet);
        const stableTg = targetGroupDimension(window.stableFleet);
        const read = (fleets, w) => readMetricData(deps.cloudwatch, fleets.flatMap(([name, tg]) => fleetQueries(name, loadBalancers, tg, w)), w.start, w.end);
        const [both, baseline] = windows.stableFromBaseline
            ? await Promise.all([read([['n', newTg]], windows.newFleet), read([['s', stableTg]], windows.stable)])
            : [
                await read([
                    ['n', newTg],
                    ['s', stableTg]
                ], windows.newFleet),
                undefined
            ];
        const newFleet = fleetEvidence('n', loadBalancers.length, both.series);
        const stable = fleetEvidence('s', loadBalancers.length, (baseline ?? both).series);
        const result = {
            newFleet: newFleet.sample,
            stable: stable.sample,
            newMinutes: newFleet.minutes,
            stableFromBaseline: windows.stableFromBaseline,
            incomplete: both.incomplete || !!baseline?.incomplete
        };
        state.cache = { at: now, evidence: result };
        return result;
    }
    /** Puts the step's verdict, with its numbers, in the report. */
    function record(window, e, j, look, extended) {
        deps.record({
            step: window.step,
            weight: window.weight,
            at: clock.now(),
            verdict: j.verdict,
            metric: j.metric,
            reason: j.reason,
            newFleet: e.newFleet,
            stable: e.stable,
            stableFromBaseline: e.stableFromBaseline,
            extended,
            early: look === 'interim'
        });
    }
    return {
        name: 'canary analysis',
        describe: [
            `canary analysis: the new fleet's 5xx rate at most +${points(config.maxErrorRateIncrease)} over the stable fleet's (unless chance explains it, one-sided Fisher test at 95%), its response time at most ${Math.round(config.maxLatencyIncrease * 100)}% slower, on at least ${config.minRequests} requests per step; each step is held until its load balancer metrics have arrived (at most metrics-delay ${(0,duration/* formatDuration */.a)(config.metricsDelayMs)} more)`
        ],
        // Before any traffic moves: the metrics can be read (permission, region), so that a judge
        // that cannot see is found out while nothing has changed.
        async gate() {
            const now = clock.now();
            const w = metricWindow(now - 60_000, now);
            await readMetricData(deps.cloudwatch, loadBalancers.map(loadBalancerRequests), w.start, w.end);
            return { ok: true, line: 'load balancer metrics readable' };
        },
        async look(window) {
            const e = await evidence(window);
            if (e.incomplete)
                return { ok: true, line: 'canary analysis: CloudWatch could not read all the data this time' };
            const j = judgeCanary(e.newFleet, e.stable, policy, 'interim');
            if (j.verdict === 'fail') {
                record(window, e, j, 'interim', steps.get(key(window))?.extendedUntil !== undefined);
                return { ok: false, line: `canary analysis: ${j.reason}` };
            }
            return { ok: true, line: `canary analysis so far: ${summary(e)}` };
        },
        async conclude(window) {
            // A step that is not held (step-wait 0) has no window to judge, and waiting for one would
            // hold what the user asked not to hold; the plan warns about it instead.
            if (window.holdMs === 0 && window.step > 0)
                return { ok: true, line: 'canary analysis: step not held, not judged' };
            const state = stepState(window);
            const now = clock.now();
            const holdEnd = state.extendedUntil ?? window.startedAt + window.holdMs;
            const latest = (window.deadline ?? Infinity) - DEADLINE_MARGIN_MS;
            if (now < holdEnd && holdEnd <= latest) {
                return { ok: true, line: 'canary analysis: hold extended', holdUntil: holdEnd };
            }
            const e = await evidence(window);
            // A paused canary's look (step 0) judges the minutes already published; nothing to wait for.
            const due = Math.min(dataDueAt(holdEnd, config.metricsDelayMs), latest);
            const arrived = window.step === 0 || (!e.incomplete && holdCovered(e.newMinutes, holdEnd));
            if (!arrived && now < due) {
                return { ok: true, line: "canary analysis: waiting for CloudWatch's data of the step", holdUntil: due };
            }
            const j = judgeCanary(e.newFleet, e.stable, policy, 'final');
            const extended = state.extendedUntil !== undefined;
            if (j.verdict !== 'inconclusive') {
                record(window, e, j, 'final', extended);
                return {
                    ok: j.verdict === 'pass',
                    line: `canary analysis${j.verdict === 'pass' ? ' passed' : ''}: ${j.reason}`
                };
            }
            // Too few requests: hold once more, if the run's time allows, before settling for less. Not
            // when none came at all, past metrics-delay: no traffic to judge will not come by waiting.
            const extendTo = now + window.holdMs;
            const someTraffic = e.newFleet.requests > 0;
            if (someTraffic && !extended && window.step > 0 && window.holdMs > 0 && extendTo <= latest) {
                state.extendedUntil = extendTo;
                deps.log.info(`Canary analysis of step ${window.step} inconclusive (${j.reason}); holding ${(0,duration/* formatDuration */.a)(window.holdMs)} more`);
                return { ok: true, line: 'canary analysis: inconclusive, hold extended', holdUntil: extendTo };
            }
            record(window, e, j, 'final', extended);
            const why = `canary analysis inconclusive at step ${window.step} (${window.weight}%): ${j.reason}`;
            if (config.inconclusive === 'fail')
                return { ok: false, line: `${why} (analysis-inconclusive: fail)` };
            const hint = someTraffic ? '' : '; with no traffic to judge, set canary-analysis: false';
            deps.warn(`${why}; the step passed without a verdict (analysis-inconclusive: pass)${hint}`);
            return { ok: true, line: `${why}; passed without a verdict` };
        }
    };
}
const key = (window) => `${window.step}@${window.startedAt}`;
function summary(e) {
    const rate = (s) => (s.requests > 0 ? pct(s.errors / s.requests) : 'n/a');
    return `5xx ${rate(e.newFleet)} of ${e.newFleet.requests} on the new fleet vs ${rate(e.stable)} of ${e.stable.requests} on the stable one`;
}

;// CONCATENATED MODULE: ./src/traffic/checks/target-health.ts



/** Every instance that took the deploy stays registered in the new fleet and healthy, and no other joins. */
function targetHealthCheck(elb) {
    return {
        name: 'target health',
        describe: ['every target of the new fleet healthy'],
        look: async (subject) => judgeTargetHealth(subject, await (0,elbv2/* targetHealth */.kG)(elb, subject.newFleet))
    };
}
function judgeTargetHealth(subject, health) {
    // A target that joined the new fleet (an Auto Scaling group, a person) never got the deploy: it
    // would serve whatever it was launched with, so the step ends and traffic goes back.
    const joined = health.filter((t) => !subject.instanceIds.includes(t.id) && t.state !== 'draining');
    if (joined.length > 0) {
        return {
            ok: false,
            line: `${joined.map((t) => t.id).join(', ')} joined ${(0,config_arn/* targetGroupName */.IT)(subject.newFleet)} without the deploy's commands`
        };
    }
    const targets = health.filter((t) => subject.instanceIds.includes(t.id));
    const bad = targets.filter((t) => t.state !== 'healthy');
    if (bad.length > 0)
        return { ok: false, line: `${describeTargets(bad)} in ${(0,config_arn/* targetGroupName */.IT)(subject.newFleet)}` };
    if (targets.length < subject.instanceIds.length)
        return { ok: false, line: `targets left ${(0,config_arn/* targetGroupName */.IT)(subject.newFleet)}` };
    return { ok: true, line: `${targets.length}/${subject.instanceIds.length} targets healthy` };
}

;// CONCATENATED MODULE: ./src/traffic/checks/hold-checks.ts




/** Every check the run's holds watch, in the order they are looked at and reported. */
function holdChecks(config, ctx, report) {
    const analysis = config.canaryAnalysis;
    return [
        alarmsCheck(ctx.clients.cloudwatch, config.alarms, analysis.metricsDelayMs),
        targetHealthCheck(ctx.clients.elb),
        ...(analysis.enabled
            ? [
                canaryAnalysisCheck({
                    cloudwatch: ctx.clients.cloudwatch,
                    clock: ctx.clock,
                    log: ctx.log,
                    config: analysis,
                    routeArns: [...config.listenerArns, ...config.ruleArns],
                    record: (step) => (report.analysis ??= []).push(step),
                    warn: (message) => {
                        ctx.log.warning(message);
                        report.warnings.push(message);
                    }
                })
            ]
            : [])
    ];
}
/**
 * What the plan warns about before anything moves: checks that cannot have seen a step as short
 * as step-wait (an alarm on data minutes late), or no check on the answers at all. Asked after
 * the gates, which read what the checks' timing depends on.
 */
function planWarnings(checks, config) {
    const own = checks.flatMap((check) => check.timingWarnings?.(config.stepWaitMs) ?? []);
    const nobody = watchWarnings({
        stepWaitMs: config.stepWaitMs,
        analysis: config.canaryAnalysis.enabled,
        alarms: config.alarms.length
    });
    return [...own, ...nobody];
}
/** The plan's promise: what each hold will watch, one line per check. */
function describeChecks(checks) {
    return checks.flatMap((check) => check.describe);
}
/** The gates of every check, side by side: the first that fails, or undefined when all pass. */
async function firstFailingGate(checks) {
    const looks = await Promise.all(checks.flatMap((check) => (check.gate ? [check.gate()] : [])));
    return looks.find((look) => !look.ok);
}

;// CONCATENATED MODULE: ./src/traffic/stickiness.ts


/**
 * What a write sets: during a canary step what the run was asked for (`keep` keeps the route's
 * setting as read just before the write); when one fleet is left at weight 0, off. AWS refuses
 * group stickiness off on a forward action whose groups have target stickiness on, so then the
 * route keeps it (and the run says what that means).
 */
function stickinessForWrite(asked, weights, targetSticky, route) {
    const oneFleetAtZero = Object.values(weights).some((w) => w === 0);
    if (!oneFleetAtZero)
        return asked;
    return stickinessEnabled(route) && !targetSticky ? { mode: 'off' } : { mode: 'keep' };
}
/** What the run tells the user about stickiness for this write, if anything. */
function stickinessNote(routes, weights, targetSticky) {
    const zero = Object.keys(weights).find((arn) => weights[arn] === 0);
    const sticky = routes.filter(stickinessEnabled);
    if (!zero || sticky.length === 0)
        return undefined;
    const where = sticky.map((r) => (0,config_arn/* routeLabel */.qA)(r.arn)).join(', ');
    if (targetSticky) {
        return `Group stickiness stays on (${where}): target stickiness on the pair requires it (AWS refuses to turn it off), so clients pinned to ${(0,config_arn/* targetGroupName */.IT)(zero)} keep reaching it until their cookie expires; turn target stickiness off on both groups to avoid this`;
    }
    return `Group stickiness turned off on ${where}: with ${(0,config_arn/* targetGroupName */.IT)(zero)} at weight 0, a stickiness cookie would keep its clients on it`;
}
/**
 * Routes whose group stickiness can send clients to the fleet at weight 0 right now: a deploy must
 * not change that fleet while they do.
 */
function routesPinningTo(routes, fleetAtZero, pairWeightsOf) {
    return routes.filter((r) => stickinessEnabled(r) && (pairWeightsOf(r)[fleetAtZero] ?? 0) === 0);
}

;// CONCATENATED MODULE: ./src/traffic/shift.ts





const WRITE_ATTEMPTS = 3;
/** Someone else (a person in the console, another tool) changed the pair's weights. */
class TrafficChangedError extends errors/* DeployError */.sH {
    routes;
    name = 'TrafficChangedError';
    constructor(message, 
    /** The routes as read when the change was found. */
    routes) {
        super(message);
        this.routes = routes;
    }
}
/**
 * Sets the pair's weights on every route at once and reads them back. Each write starts from the
 * route as read just before it, so a change someone made to the rest of the listener during a
 * hold stays; a change to the pair's weights that this run did not make stops it instead (the
 * person's weights win). A read-back that differs is written again; after that it is an error,
 * since traffic is not where the run believes it is.
 */
async function setWeights(elb, routes, shift) {
    const { pair, target } = shift;
    let current = await (0,elbv2/* rereadRoutes */._z)(elb, routes);
    if (shift.expected)
        assertUnchanged(current, pair, shift.expected, target);
    let noted = false;
    for (let attempt = 1;; attempt++) {
        const pending = current.filter((route) => !sameWeights(pairWeights(route, pair), target[route.arn]));
        if (pending.length > 0) {
            if (!noted)
                note(shift, pending);
            noted = true;
            await shift.guard(`Writing ${describeWeights(target[pending[0].arn])}`, () => Promise.all(pending.map((route) => (0,elbv2/* writeRouteActions */.ER)(elb, route, withWeights(route, target[route.arn], stickinessForWrite(shift.stickiness, target[route.arn], shift.targetSticky, route))))));
        }
        current = await (0,elbv2/* rereadRoutes */._z)(elb, routes);
        // A write that did not land reads back as it was: write it again. Anything else is someone
        // else's change since the read before the write, and theirs wins.
        if (shift.expected)
            assertUnchanged(current, pair, shift.expected, target);
        const wrong = current.filter((route) => !sameWeights(pairWeights(route, pair), target[route.arn]));
        if (wrong.length === 0)
            return current;
        const detail = wrong.map((r) => `${describeRoute(r)} reads ${describeWeights(pairWeights(r, pair))}`).join('; ');
        if (attempt >= WRITE_ATTEMPTS) {
            throw new errors/* DeployError */.sH(`Weights did not stick after ${WRITE_ATTEMPTS} writes: ${detail}; something else is changing the listener, stop it and run rollback`);
        }
        shift.log.warning(`Read-back differs from what was written (${detail}); writing again`);
    }
}
/** Throws TrafficChangedError when a route's pair weights are neither expected nor already the target. */
function assertUnchanged(routes, pair, expected, target) {
    const changed = routes.filter((route) => {
        const now = pairWeights(route, pair);
        if (expected[route.arn] && sameWeights(now, expected[route.arn]))
            return false;
        return !(target?.[route.arn] && sameWeights(now, target[route.arn]));
    });
    if (changed.length === 0)
        return;
    const detail = changed
        .map((r) => `${describeRoute(r)} reads ${describeWeights(pairWeights(r, pair))} where this run left ${describeWeights(expected[r.arn] ?? {})}`)
        .join('; ');
    throw new TrafficChangedError(`Traffic was changed by someone else (${detail}); this run leaves it as it is and stops: run status, then promote or rollback`, routes);
}
function note(shift, pending) {
    const weights = shift.target[pending[0].arn];
    const message = stickinessNote(pending, weights, shift.targetSticky);
    if (!message)
        return;
    shift.log.warning(message);
    shift.warnings?.push(message);
}
function sameWeights(actual, expected) {
    return !!expected && Object.keys(expected).every((arn) => actual[arn] === expected[arn]);
}
/**
 * Turns group stickiness off on the routes that have it, weights unchanged: before a deploy
 * changes the fleet at weight 0, clients a cookie still pins to it must leave it.
 */
async function releasePinnedClients(elb, routes, guard) {
    await guard('Turning group stickiness off', () => Promise.all(routes.map((route) => (0,elbv2/* writeRouteActions */.ER)(elb, route, withStickinessOff(route)))));
    return (0,elbv2/* rereadRoutes */._z)(elb, routes);
}
function withStickinessOff(route) {
    return withWeights(route, {}, { mode: 'off' });
}

;// CONCATENATED MODULE: ./src/traffic/hold.ts
/**
 * Holds a traffic step while every check watches it. Returns at the first failed look, because
 * every second on a bad version is a second of users' requests failing. At the end of the hold,
 * checks whose evidence arrives late have the last word; while one of them still waits for its
 * evidence the step stays held and every check keeps watching, since the traffic is still there.
 */
async function holdStep(checks, subject, options) {
    const { clock } = options;
    const window = { ...subject, deadline: options.deadline };
    const interval = options.checkIntervalMs ?? Math.min(5000, Math.max(500, window.holdMs / 4));
    let rounds = 0;
    for (;;) {
        rounds++;
        const seen = await Promise.all(checks.map((check) => check.look(window)));
        warn(seen, options.warnings);
        options.log?.debug(`look ${rounds} at ${window.weight}%: ${seen.map((look) => look.line).join('; ')}`);
        const failed = seen.find((look) => !look.ok);
        if (failed)
            return { checks: [failed.line], failure: failed.line };
        const now = clock.now();
        if (now >= options.deadline)
            return { checks: ['timeout passed'], failure: 'timeout passed' };
        let until = window.startedAt + window.holdMs;
        if (now >= until) {
            const last = await Promise.all(checks.map((check, i) => (check.conclude ? check.conclude(window) : seen[i])));
            warn(last, options.warnings);
            const failedLast = last.find((look) => !look.ok);
            if (failedLast)
                return { checks: [failedLast.line], failure: failedLast.line };
            until = Math.max(...last.map((look) => look.holdUntil ?? 0));
            if (until <= clock.now()) {
                return { checks: [...last.map((look) => look.line), `${rounds} check${rounds === 1 ? '' : 's'}`] };
            }
        }
        const at = clock.now();
        await clock.sleep(Math.max(1, Math.min(interval, until - at, options.deadline - at)), options.signal);
    }
}
function warn(looks, warnings) {
    for (const look of looks)
        if (look.warning && warnings && !warnings.includes(look.warning))
            warnings.push(look.warning);
}

;// CONCATENATED MODULE: ./src/traffic/restore.ts


/**
 * Writes the given weights on every route and reads them back. A restore leaves a fleet at weight
 * 0, so target group stickiness is turned off with it (stickiness.ts): on an ALB a stickiness
 * cookie outranks the weights, and all traffic is meant to leave that fleet now.
 */
async function restoreTraffic(ctx, routes, run, warnings) {
    ctx.log.warning(`Restoring the starting weights on ${routes.length} route${routes.length > 1 ? 's' : ''}`);
    const restored = await setWeights(ctx.clients.elb, routes, {
        pair: run.pair,
        target: run.restore,
        stickiness: { mode: 'keep' },
        targetSticky: run.targetSticky,
        expected: run.expected,
        guard: run.guard,
        log: ctx.log,
        warnings
    });
    ctx.log.info(`Weights restored and verified: ${Object.values(run.restore).map(describeWeights).join('; ')}`);
    return restored;
}

;// CONCATENATED MODULE: ./src/traffic/steps.ts









/**
 * Moves traffic to the new fleet step by step, holding each step while the checks watch it, and
 * puts it all back on the stable fleet at the first failed check, at the deadline, or when the run
 * is cancelled. Every hold ends by reading the lock and the weights again, and every write starts
 * from the route as read just before it: a rollback that took the pair over, or a person who
 * changed the weights, is never overwritten. It never returns with traffic half-shifted without
 * saying so in the outcome.
 */
async function runTrafficSteps(config, ctx, run, report) {
    let routes = run.routes;
    let stepNumber = run.firstStepNumber;
    let weight = run.lookFirstAt ?? 0;
    let moved = run.lookFirstAt !== undefined;
    // What this run believes each route's weights are: what it found, then what it last wrote.
    let expected = Object.fromEntries(routes.map((r) => [r.arn, pairWeights(r, run.pair)]));
    const hold = (step, holdMs, entry) => holdStep(run.checks, { ...subject(run), step, weight, startedAt: entry.startedAt, holdMs }, { clock: ctx.clock, signal: ctx.signal, deadline: run.deadline, warnings: report.warnings, log: ctx.log });
    const write = async (target) => {
        // Told before the write: if the runner kills us mid-write, post still knows what to put back.
        moved = true;
        run.onTrafficMoved(true, { before: expected, after: target });
        routes = await setWeights(ctx.clients.elb, routes, {
            pair: run.pair,
            target,
            stickiness: config.stickiness,
            targetSticky: run.targetSticky,
            expected,
            guard: run.guard,
            log: ctx.log,
            warnings: report.warnings
        });
        expected = target;
    };
    // The lock and the weights once more: a rollback or a person may have acted during the hold.
    // Both are reads of the same moment, so they go out together; a lost lock is what the run hears
    // first, whatever else failed with it (it decides that this run leaves traffic alone). The
    // weights read are what the run reports either way: the other run may already have moved them.
    const stillOurs = async () => {
        const [held, now] = await Promise.allSettled([run.confirmHeld(), (0,elbv2/* rereadRoutes */._z)(ctx.clients.elb, routes)]);
        if (now.status === 'fulfilled')
            routes = now.value;
        if (held.status === 'rejected')
            throw held.reason;
        if (now.status === 'rejected')
            throw now.reason;
        assertUnchanged(routes, run.pair, expected);
    };
    try {
        if (run.lookFirstAt !== undefined) {
            // A canary already failing its checks gets no more traffic: it goes straight back to stable.
            const entry = timelineEntry(report, 0, weight, ctx.clock.now());
            const findings = await hold(0, 0, entry);
            entry.checks = findings.checks;
            if (findings.failure) {
                entry.outcome = 'failed';
                stepNumber = 0;
                return await fail(findings.failure, false);
            }
            report.timeline.pop();
        }
        for (const step of run.steps) {
            // A cancel must stop the next shift even when no hold sleeps between steps (step-wait 0).
            ctx.signal.throwIfAborted();
            weight = step.weight;
            const target = splitWeights(run.newFleet, run.stableFleet, step.weight);
            const { findings, entry } = await ctx.log.group(`Step ${stepNumber}: ${describeWeights(target)}, held for ${Math.round(step.holdMs / 1000)}s`, async () => {
                await write(everyRoute(routes, target));
                const entry = timelineEntry(report, stepNumber, step.weight, ctx.clock.now());
                ctx.signal.throwIfAborted();
                return { findings: await hold(stepNumber, step.holdMs, entry), entry };
            });
            entry.heldMs = ctx.clock.now() - entry.startedAt;
            entry.checks = findings.checks;
            if (findings.failure) {
                entry.outcome = 'failed';
                return await fail(findings.failure, false);
            }
            await stillOurs();
            ctx.log.info(`Step ${stepNumber} held: ${findings.checks.join('; ')}`);
            stepNumber++;
        }
        return { kind: 'completed', routes };
    }
    catch (error) {
        const interrupted = interruption(error, ctx.signal);
        if (interrupted)
            return stop(interrupted);
        const cancelled = ctx.signal.aborted;
        const last = report.timeline[report.timeline.length - 1];
        if (last && last.step === stepNumber) {
            last.heldMs = ctx.clock.now() - last.startedAt;
            last.outcome = cancelled ? 'cancelled' : 'failed';
        }
        const what = cancelled ? 'the run was cancelled' : `error while shifting traffic: ${error.message}`;
        return await fail(what, cancelled);
    }
    /** Another run or a person acted: leave their traffic as it is, say so. */
    function stop(error) {
        const by = error instanceof errors/* LockLostError */.yx ? 'lock' : 'change';
        if (error instanceof TrafficChangedError)
            routes = error.routes;
        const last = report.timeline[report.timeline.length - 1];
        if (last && last.step === stepNumber && last.outcome === 'held')
            last.heldMs = ctx.clock.now() - last.startedAt;
        report.failure = { what: error.message, at: ctx.clock.now(), step: stepNumber, weight };
        ctx.log.error(error.message);
        report.warnings.push(error.message);
        // This run wrote nothing after the other party acted: the post step must not write either.
        run.onTrafficMoved(false);
        return { kind: 'interrupted', routes, by, message: error.message };
    }
    async function fail(what, cancelled) {
        report.failure = { what, at: ctx.clock.now(), step: stepNumber, weight };
        if (!cancelled)
            run.onStepFailed?.(run.restore);
        ctx.log.error(`Step ${stepNumber} (${weight}% on ${(0,config_arn/* targetGroupName */.IT)(run.newFleet)}) failed: ${what}`);
        if (!moved)
            return { kind: 'failed', routes, restored: false, cancelled, message: what };
        if (!config.autoRollback) {
            const message = `${what}; auto-rollback is off, so ${weight}% of traffic stays on ${(0,config_arn/* targetGroupName */.IT)(run.newFleet)}: run rollback to undo`;
            ctx.log.error(message);
            report.warnings.push(message);
            return { kind: 'failed', routes, restored: false, cancelled, message };
        }
        const restore = cancelled ? (run.cancelRestore ?? run.restore) : run.restore;
        try {
            run.onTrafficMoved(true, { before: expected, after: restore });
            routes = await restoreTraffic(ctx, routes, { pair: run.pair, restore, targetSticky: run.targetSticky, expected, guard: run.guard }, report.warnings);
        }
        catch (error) {
            const interrupted = interruption(error, undefined);
            if (interrupted)
                return stop(interrupted);
            const message = `${what}; restoring the weights FAILED (${error.message}): traffic may still reach ${(0,config_arn/* targetGroupName */.IT)(run.newFleet)}, run rollback now`;
            ctx.log.error(message);
            report.warnings.push(message);
            // Report the weights as they are, not as the last good read had them.
            routes = await (0,elbv2/* rereadRoutes */._z)(ctx.clients.elb, routes).catch(() => routes);
            return { kind: 'failed', routes, restored: false, cancelled, message };
        }
        run.onTrafficMoved(false);
        const restored = timelineEntry(report, 0, weightOn(restore, run.newFleet), ctx.clock.now());
        Object.assign(restored, { outcome: 'restored', checks: ['starting weights written and read back'] });
        return { kind: 'failed', routes, restored: true, cancelled, message: what };
    }
}
/** The error, or the abort's reason, when it means that someone else acted. */
function interruption(error, signal) {
    for (const e of [error, signal?.aborted ? signal.reason : undefined]) {
        if (e instanceof errors/* LockLostError */.yx || e instanceof TrafficChangedError)
            return e;
    }
    return undefined;
}
function subject(run) {
    return { newFleet: run.newFleet, stableFleet: run.stableFleet, instanceIds: run.instanceIds };
}
function timelineEntry(report, step, weight, startedAt) {
    const entry = { step, weight, startedAt, heldMs: 0, outcome: 'held', checks: [] };
    report.timeline.push(entry);
    return entry;
}
function weightOn(restore, fleet) {
    const first = Object.values(restore)[0] ?? {};
    const total = Object.values(first).reduce((a, b) => a + b, 0);
    return total === 0 ? 0 : Math.round(((first[fleet] ?? 0) / total) * 100);
}
function everyRoute(routes, weights) {
    return Object.fromEntries(routes.map((r) => [r.arn, weights]));
}

;// CONCATENATED MODULE: ./src/fleet/run-once.ts






/**
 * Runs a hook's commands once, on one instance of the new fleet, through the deploy's document,
 * and hands `onReport` what happened before judging it (the summary shows the output whatever
 * comes next). Throws when the hook did not succeed: what follows it must not happen.
 */
async function runOnce(config, ctx, request, hooks) {
    const { hook, instanceId } = request;
    const input = HOOK_INPUT[hook];
    const run = { hook, instanceId, startedAt: ctx.clock.now(), status: 'Pending' };
    ctx.log.info(`Running ${input} once, on ${instanceId}`);
    let outcome;
    try {
        outcome = await runCommand(ctx.clients.ssm, {
            instanceIds: [instanceId],
            document: config.document,
            parameters: hookParameters(config.documentParameters, request.lines),
            executionTimeoutMs: config.commandTimeoutMs,
            maxConcurrency: '1',
            maxErrors: '0',
            comment: clipComment(commandComment({
                version: `${shortVersion(request.version ?? config.version)} ${hook}`,
                repository: ctx.run.repository,
                runId: ctx.run.runId
            })),
            cloudWatchLogGroup: config.cloudWatchLogGroup
        }, {
            clock: ctx.clock,
            log: ctx.log,
            signal: ctx.signal,
            onSent: (ids) => {
                run.commandId = ids[0];
                hooks.onSent(ids);
            },
            guard: hooks.guard
        });
    }
    catch (error) {
        if (ctx.signal.aborted)
            throw error;
        hooks.onReport({ ...run, status: 'Failed' });
        throw new errors/* DeployError */.sH(`${input}: ${(0,errors/* messageOf */.bD)(error)}`);
    }
    const result = outcome.results[0];
    Object.assign(run, {
        commandId: outcome.commandIds[0],
        consoleUrl: outcome.commandIds[0] ? consoleUrl(config.region, outcome.commandIds[0]) : undefined,
        status: result?.status ?? 'Pending',
        exitCode: result?.exitCode,
        durationMs: result?.durationMs,
        outputTail: result?.outputTail
    });
    // The runner fetches output of failures only; a hook's output is worth showing either way
    // (what the migration did), and it is one call.
    if (run.status === 'Success' && run.commandId) {
        await getInvocation(ctx.clients.ssm, run.commandId, instanceId)
            .then((detail) => {
            run.outputTail = outputTail(detail.StandardOutputContent ?? '', detail.StandardErrorContent ?? '') || undefined;
            run.durationMs ??= elapsed(detail.ExecutionStartDateTime, detail.ExecutionEndDateTime);
        })
            .catch((e) => ctx.log.warning(`Could not read the output of ${input} on ${instanceId}: ${(0,errors/* messageOf */.bD)(e)}`));
    }
    hooks.onReport(run);
    if (run.status !== 'Success') {
        const exit = run.exitCode !== undefined ? `exit ${run.exitCode}` : run.status;
        throw new errors/* DeployError */.sH(`${input} ${outcome.timedOut ? 'timed out' : 'failed'} on ${instanceId} (${exit})`);
    }
    ctx.log.info(`${input} succeeded on ${instanceId}`);
    return run;
}
function shortVersion(version) {
    return /^[0-9a-f]{13,}$/i.test(version) ? version.slice(0, 12) : version;
}

;// CONCATENATED MODULE: ./src/records/contract-record.ts
// The contract is recorded on AWS like the fleets' other records (a tag on the target group that
// ran it), so a rollback from any later job, or a person's status, sees it.

const CONTRACT_TAG = 'bluegreen:contract';
// Tag values allow letters, digits, spaces and _ . : / = + - @ only.
function encodeContract(contract) {
    const safe = (text) => text.replace(/[^\p{L}\p{Z}\p{N}_.:/=+\-@]/gu, '-').replace(/\s+/g, '-');
    return `state=${contract.state} at=${safe(contract.at)} deployed=${safe(contract.deployedAt)} run=${safe(contract.run)}`.slice(0, 256);
}
function decodeContract(value) {
    const match = /^state=(started|done|failed) at=(\S+) deployed=(\S+) run=(.*)$/.exec(value ?? '');
    if (!match)
        return undefined;
    return { state: match[1], at: match[2], deployedAt: match[3], run: match[4] };
}
/** Writes the contract's state on the fleet that runs it. */
async function recordContract(ctx, fleetArn, contract) {
    await (0,elbv2/* writeTags */.p)(ctx.clients.elb, fleetArn, { [CONTRACT_TAG]: encodeContract(contract) });
}
/** Takes the record back: the contract command never went out, so nothing was contracted. */
async function forgetContract(ctx, fleetArn) {
    await (0,elbv2/* removeTags */._M)(ctx.clients.elb, fleetArn, [CONTRACT_TAG]);
}

;// CONCATENATED MODULE: ./src/aws/elbv2-rules.ts
// The ELBv2 calls of the preview route: a listener's rules, creating and deleting one, and where
// a listener can be reached. Thin, like elbv2.ts; the decisions are in plan/preview-rule.ts.


// The ELBv2 API's own limits: rules per DescribeRules page, ARNs per describe call.
const RULES_PER_PAGE = 400;
const ARNS_PER_DESCRIBE = 20;
/** Every rule of a listener, the default rule included, through all pages. */
async function listenerRules(elb, listenerArn) {
    const rules = [];
    let Marker;
    do {
        const page = await elb.send(new client_elastic_load_balancing_v2_dist_cjs/* DescribeRulesCommand */.Ggo({ ListenerArn: listenerArn, PageSize: RULES_PER_PAGE, Marker }));
        rules.push(...(page.Rules ?? []));
        Marker = page.NextMarker;
    } while (Marker);
    return rules;
}
/** Creates a rule and returns its ARN. */
async function createRule(elb, input) {
    const { Rules = [] } = await elb.send(new client_elastic_load_balancing_v2_dist_cjs/* CreateRuleCommand */.OOk(input));
    const arn = Rules[0]?.RuleArn;
    if (!arn)
        throw new Error(`CreateRule on ${input.ListenerArn} returned no rule`);
    return arn;
}
/** Deletes a rule; one already gone counts as deleted. */
async function deleteRule(elb, ruleArn) {
    await elb.send(new client_elastic_load_balancing_v2_dist_cjs/* DeleteRuleCommand */.piX({ RuleArn: ruleArn })).catch((error) => {
        if (error?.name === 'RuleNotFoundException' || error?.name === 'RuleNotFound')
            return;
        throw error;
    });
}
/** Protocol, port and load balancer DNS name of each listener, for a request a person can send. */
async function listenerAddresses(elb, listenerArns) {
    const out = {};
    for (const batch of (0,aws_batches/* chunks */.V)(listenerArns, ARNS_PER_DESCRIBE)) {
        const { Listeners = [] } = await elb.send(new client_elastic_load_balancing_v2_dist_cjs/* DescribeListenersCommand */.AKE({ ListenerArns: batch }));
        for (const l of Listeners) {
            if (l.ListenerArn)
                out[l.ListenerArn] = { protocol: l.Protocol, port: l.Port, lb: l.LoadBalancerArn };
        }
    }
    const lbs = [...new Set(Object.values(out).flatMap((l) => (l.lb ? [l.lb] : [])))];
    for (const batch of (0,aws_batches/* chunks */.V)(lbs, ARNS_PER_DESCRIBE)) {
        const { LoadBalancers = [] } = await elb.send(new client_elastic_load_balancing_v2_dist_cjs/* DescribeLoadBalancersCommand */.AZi({ LoadBalancerArns: batch }));
        for (const l of Object.values(out))
            l.dnsName = LoadBalancers.find((b) => b.LoadBalancerArn === l.lb)?.DNSName;
    }
    return Object.fromEntries(Object.entries(out).map(([arn, { lb: _lb, ...rest }]) => [arn, rest]));
}

;// CONCATENATED MODULE: ./src/plan/preview-rule.ts


/** Tag on every preview rule this action creates; its value is the fleet the rule sends to. */
const PREVIEW_TAG = 'bluegreen:preview';
// ALB's own limits: rule priorities, match evaluations per rule.
const PRIORITY_MAX = 50_000;
const EVALUATIONS_PER_RULE = 5;
/**
 * A rule per route: the route's own conditions plus `header: value`, forwarding to the new fleet
 * only, placed right before the route it stands in for. There every other rule keeps its place, so
 * a request with the header goes where it would have gone without it, except that the pair is
 * replaced by the new fleet: a path another rule serves still reaches that rule.
 */
function planPreviewRules(input) {
    const perListener = new Map();
    for (const route of input.routes)
        perListener.set(route.listenerArn, (perListener.get(route.listenerArn) ?? 0) + 1);
    if (input.priority !== undefined && [...perListener.values()].some((n) => n > 1)) {
        throw new errors/* DeployError */.sH(`preview-priority ${input.priority} cannot serve two routes of one listener (each needs its own rule); leave preview-priority empty to take free priorities`);
    }
    const taken = new Map();
    return input.routes.map((route) => {
        const occupied = taken.get(route.listenerArn) ?? occupiedPriorities(route.listenerRules, input.replaced);
        taken.set(route.listenerArn, occupied);
        const previewed = previewedRule(route);
        const priority = choosePriority(route, previewed, occupied, input.priority);
        occupied.add(priority);
        return {
            listenerArn: route.listenerArn,
            routeArn: route.arn,
            priority,
            conditions: previewConditions(route, previewed, input.header, input.value),
            actions: previewActions(route, previewed, input.newFleet),
            ...(previewed?.Transforms?.length ? { transforms: previewed.Transforms } : {})
        };
    });
}
/** Priorities in use on a listener, not counting earlier preview rules (they are removed first). */
function occupiedPriorities(rules, replaced = []) {
    return new Set(rules
        .filter((r) => !r.IsDefault && !replaced.includes(r.RuleArn ?? ''))
        .map((r) => Number(r.Priority))
        .filter((p) => Number.isInteger(p)));
}
function previewedRule(route) {
    if (route.kind === 'listener')
        return undefined;
    const rule = route.listenerRules.find((r) => r.RuleArn === route.arn);
    if (!rule) {
        throw new errors/* DeployError */.sH(`Rule ${(0,config_arn/* routeLabel */.qA)(route.arn)} is not among its listener's rules; check rule-arns, then run again`);
    }
    return rule;
}
/**
 * A listener's default action is reached after every rule, so its preview rule comes after every
 * rule too: the highest priority, leaving the numbers people use free meanwhile. A rule's preview
 * comes right before it, so that no rule between gets skipped by requests with the header.
 */
function choosePriority(route, previewed, occupied, requested) {
    const where = route.kind === 'listener' ? `listener ${(0,config_arn/* routeLabel */.qA)(route.arn)}` : `rule ${(0,config_arn/* routeLabel */.qA)(route.arn)}`;
    if (requested !== undefined) {
        if (occupied.has(requested)) {
            throw new errors/* DeployError */.sH(`preview-priority ${requested} is taken on the listener of ${where}; give a free priority, or leave preview-priority empty to take one`);
        }
        if (previewed && requested >= Number(previewed.Priority)) {
            throw new errors/* DeployError */.sH(`preview-priority ${requested} comes after ${where} (priority ${previewed.Priority}), which would answer the requests first; give a priority below ${previewed.Priority}`);
        }
        return requested;
    }
    if (!previewed) {
        const highest = Math.max(0, ...occupied);
        if (highest >= PRIORITY_MAX) {
            throw new errors/* DeployError */.sH(`The ${where} has a rule at priority ${PRIORITY_MAX}, so no preview rule can come after every rule; give preview-priority`);
        }
        return PRIORITY_MAX;
    }
    const own = Number(previewed.Priority);
    const before = Math.max(0, ...[...occupied].filter((p) => p < own));
    if (own - 1 <= before) {
        throw new errors/* DeployError */.sH(`No free priority right before ${where} (priority ${own}; ${before} is taken), where its preview rule must go; leave a gap before it, or give preview-priority`);
    }
    return own - 1;
}
/** The route's own conditions (a rule's; none for a listener's default) and the header. */
function previewConditions(route, previewed, header, value) {
    const own = (previewed?.Conditions ?? []).map(copyCondition);
    const evaluations = own.reduce((sum, c) => sum + evaluationsOf(c), 0);
    if (evaluations + 1 > EVALUATIONS_PER_RULE) {
        throw new errors/* DeployError */.sH(`Rule ${(0,config_arn/* routeLabel */.qA)(route.arn)} already has ${evaluations} match evaluations; its preview rule needs one more and ALB allows ${EVALUATIONS_PER_RULE} a rule: drop preview-header for this route`);
    }
    return [...own, { Field: 'http-header', HttpHeaderConfig: { HttpHeaderName: header, Values: [value] } }];
}
/**
 * The route's actions with the forward sent to the new fleet only. An authentication step is kept,
 * so the preview asks for the same login as the route. OIDC cannot be copied: AWS never returns
 * its client secret, and a preview without the login would open the new version to anyone.
 */
function previewActions(route, previewed, newFleet) {
    const actions = previewed?.Actions ?? route.listenerRules.find((r) => r.IsDefault)?.Actions ?? [{ Type: 'forward' }];
    return actions.map((action) => {
        if (action.Type === 'authenticate-oidc') {
            throw new errors/* DeployError */.sH(`${route.kind === 'listener' ? 'Listener' : 'Rule'} ${(0,config_arn/* routeLabel */.qA)(route.arn)} signs users in with OIDC; a preview rule would need the client secret, which AWS never returns, and without the sign-in it would open ${(0,config_arn/* targetGroupName */.IT)(newFleet)} to anyone: drop preview-header`);
        }
        if (action.Type !== 'forward')
            return action;
        return {
            Type: 'forward',
            ...(action.Order !== undefined ? { Order: action.Order } : {}),
            ForwardConfig: { TargetGroups: [{ TargetGroupArn: newFleet, Weight: 1 }] }
        };
    });
}
function copyCondition(condition) {
    // Describe returns host and path values twice (legacy Values and the Config); write one form.
    const { Values, ...rest } = condition;
    const hasConfig = Object.keys(rest).some((key) => key.endsWith('Config'));
    if (hasConfig || !Values)
        return rest;
    if (condition.Field === 'host-header')
        return { ...rest, HostHeaderConfig: { Values } };
    if (condition.Field === 'path-pattern')
        return { ...rest, PathPatternConfig: { Values } };
    return condition;
}
function evaluationsOf(condition) {
    const configs = [
        condition.HostHeaderConfig,
        condition.PathPatternConfig,
        condition.HttpHeaderConfig,
        condition.HttpRequestMethodConfig,
        condition.SourceIpConfig,
        condition.QueryStringConfig
    ];
    const inConfigs = configs.reduce((sum, config) => sum +
        (config?.Values?.length ?? 0) +
        (config?.RegexValues?.length ?? 0), 0);
    return Math.max(1, inConfigs + (condition.RegexValues?.length ?? 0));
}
/**
 * A ready curl line for one preview rule. A host or path that the rule itself requires goes into
 * the URL (when it is a plain one), so that the request matches the rule and not just the header.
 */
function curlLine(plan, address, header, value) {
    const https = address.protocol === 'HTTPS';
    const defaultPort = https ? 443 : 80;
    const host = plainValue(plan.conditions, 'host-header', /^[A-Za-z0-9.-]+$/);
    const path = plainValue(plan.conditions, 'path-pattern', /^\/[A-Za-z0-9_./~-]*$/);
    const port = host || !address.port || address.port === defaultPort ? '' : `:${address.port}`;
    const target = host ?? address.dnsName ?? 'LOAD-BALANCER-DNS-NAME';
    return `curl -H '${header}: ${value}' ${https ? 'https' : 'http'}://${target}${port}${path ?? '/'}`;
}
function plainValue(conditions, field, safe) {
    const condition = conditions.find((c) => c.Field === field);
    const values = condition?.HostHeaderConfig?.Values ?? condition?.PathPatternConfig?.Values ?? condition?.Values ?? [];
    const value = values[0];
    if (values.length !== 1 || !value)
        return undefined;
    // A wildcard pattern gives its plain prefix; `/api/*` becomes `/api/`.
    const plain = value.split(/[*?]/)[0];
    if (field === 'host-header' && plain !== value)
        return undefined;
    return safe.test(plain) ? plain : undefined;
}
/** The new fleet a rule previews, when it is one of this action's preview rules for the pair. */
function previewedFleet(tags, pair) {
    const fleet = tags[PREVIEW_TAG];
    return fleet && pair.includes(fleet) ? fleet : undefined;
}
/** A rule that could be one of this action's previews: header condition, forwards to one group. */
function mayBePreviewRule(rule, pair) {
    if (rule.IsDefault)
        return false;
    const forward = rule.Actions?.find((a) => a.Type === 'forward');
    const groups = forward?.ForwardConfig?.TargetGroups?.map((g) => g.TargetGroupArn) ?? [forward?.TargetGroupArn];
    return ((rule.Conditions ?? []).some((c) => c.Field === 'http-header') &&
        groups.length === 1 &&
        pair.includes(groups[0] ?? ''));
}
/** The listener a route belongs to: itself, or the listener in a rule's ARN. */
function listenerOfRoute(route) {
    return route.kind === 'listener'
        ? route.arn
        : route.arn.replace(':listener-rule/', ':listener/').replace(/\/[^/]+$/, '');
}

;// CONCATENATED MODULE: ./src/traffic/preview-route.ts





/**
 * The preview route of one deploy: planned before anything changes (a dry run shows it), opened
 * before the first shift, closed at every ending. Requests carrying `header: version` reach the
 * new fleet through the real load balancer while users still reach the old one.
 */
class PreviewRoute {
    ctx;
    report;
    plans;
    routes;
    input;
    stale;
    addresses;
    constructor(ctx, report, plans, routes, input, 
    /** Earlier preview rules of the pair (a run that died with its post step): removed on open. */
    stale, addresses) {
        this.ctx = ctx;
        this.report = report;
        this.plans = plans;
        this.routes = routes;
        this.input = input;
        this.stale = stale;
        this.addresses = addresses;
    }
    /** Reads the listeners' rules and decides every rule; changes nothing. Throws when none fits. */
    static async plan(ctx, found, preview, version, newFleet, warnings) {
        const routes = await readListenerRules(ctx.clients.elb, found.routes);
        const stale = (await previewRulesOf(ctx.clients.elb, routes, found.pair)).map((r) => r.RuleArn);
        const input = { header: preview.header, value: version, newFleet, priority: preview.priority };
        const plans = planPreviewRules({ routes, ...input, replaced: stale });
        const addresses = await addressesOf(ctx, routes, warnings);
        const report = {
            header: preview.header,
            value: version,
            fleet: newFleet,
            state: 'planned',
            rules: plans.map((p) => ruleReport(p, addresses, preview.header, version))
        };
        return new PreviewRoute(ctx, report, plans, routes, input, stale, addresses);
    }
    /** The preview rules of the pair already open (a paused canary's), for a promote or a rollback to close. */
    static async find(ctx, found, opts = {}) {
        const routes = await readListenerRules(ctx.clients.elb, found.routes);
        const open = await previewRulesOf(ctx.clients.elb, routes, found.pair);
        if (open.length === 0)
            return undefined;
        const header = open[0].Conditions?.find((c) => c.Field === 'http-header')?.HttpHeaderConfig;
        const fleet = open[0].Actions?.find((a) => a.Type === 'forward')?.ForwardConfig?.TargetGroups?.[0]?.TargetGroupArn;
        const addresses = opts.withAddresses ? await addressesOf(ctx, routes, opts.warnings ?? []) : {};
        const input = { header: header?.HttpHeaderName ?? '', value: header?.Values?.[0] ?? '', newFleet: fleet ?? '' };
        const rules = open.map((rule) => {
            const listenerArn = routes.find((r) => r.listenerRules.includes(rule))?.listenerArn ?? '';
            const plan = {
                listenerArn,
                routeArn: listenerArn,
                priority: Number(rule.Priority),
                conditions: rule.Conditions ?? [],
                actions: []
            };
            return { ...ruleReport(plan, addresses, input.header, input.value), ruleArn: rule.RuleArn };
        });
        const report = { ...input, fleet: input.newFleet, state: 'open', rules };
        return new PreviewRoute(ctx, report, [], routes, input, [], addresses);
    }
    /** Rule ARNs open now. */
    get ruleArns() {
        return this.report.rules.flatMap((r) => (r.ruleArn ? [r.ruleArn] : []));
    }
    /**
     * Removes earlier preview rules of the pair, then creates one rule per route. `onCreated` hears
     * every rule as it exists, so that a run dying halfway leaves its post step the list to remove.
     */
    async open(onCreated) {
        const { elb } = this.ctx.clients;
        for (const arn of this.stale)
            await deleteRule(elb, arn);
        if (this.stale.length)
            this.ctx.log.info(`Removed ${this.stale.length} preview rule(s) an earlier run left`);
        this.stale = [];
        for (const [i, plan] of this.plans.entries()) {
            const ruleArn = await this.create(plan, i);
            this.report.rules[i].ruleArn = ruleArn;
            this.report.state = 'open';
            onCreated(this.ruleArns);
            this.ctx.log.info(`Preview open on ${(0,config_arn/* routeLabel */.qA)(plan.listenerArn)} at priority ${this.report.rules[i].priority}: ${this.report.rules[i].curl ?? `header ${this.input.header}: ${this.input.value}`}`);
        }
    }
    /**
     * Removes every rule this preview opened. Never throws: the run's ending matters more than the
     * rule, which only answers requests that ask for it; what could not be removed is said loudly.
     */
    async close(warnings) {
        const open = this.ruleArns;
        if (open.length === 0)
            return;
        const left = await closePreviewRules(this.ctx.clients.elb, open, this.ctx.log);
        this.report.rules.forEach((r) => {
            if (r.ruleArn && !left.includes(r.ruleArn))
                r.ruleArn = undefined;
        });
        this.report.state = left.length ? 'left' : 'removed';
        if (left.length) {
            warnings.push(`Could not remove preview rule${left.length > 1 ? 's' : ''} ${left.join(', ')}: requests with ${this.input.header}: ${this.input.value} still reach ${(0,config_arn/* targetGroupName */.IT)(this.input.newFleet)}; delete ${left.length > 1 ? 'them' : 'it'} (aws elbv2 delete-rule --rule-arn ...), or the next deploy with preview-header does`);
        }
        else {
            this.ctx.log.info(`Preview closed: ${open.length} rule(s) removed`);
        }
    }
    async create(plan, index) {
        const send = (p) => createRule(this.ctx.clients.elb, {
            ListenerArn: p.listenerArn,
            Priority: p.priority,
            Conditions: p.conditions,
            Actions: p.actions,
            ...(p.transforms ? { Transforms: p.transforms } : {}),
            Tags: [{ Key: PREVIEW_TAG, Value: this.input.newFleet }]
        });
        try {
            return await send(plan);
        }
        catch (error) {
            // Someone took the priority since the rules were read: read them again and place it anew,
            // unless the user chose the priority, which then is simply taken.
            if (error?.name !== 'PriorityInUseException' || this.input.priority !== undefined)
                throw previewError(error);
            const route = this.routes[index];
            route.listenerRules = await listenerRules(this.ctx.clients.elb, route.listenerArn);
            const created = this.ruleArns;
            const [again] = planPreviewRules({ ...this.input, routes: [route], replaced: created });
            this.plans[index] = again;
            this.report.rules[index] = ruleReport(again, this.addresses, this.input.header, this.input.value);
            return await send(again).catch((e) => {
                throw previewError(e);
            });
        }
    }
}
/** Deletes preview rules, a few tries each; returns the ARNs that could not be deleted. */
async function closePreviewRules(elb, ruleArns, log) {
    const left = [];
    for (const arn of ruleArns) {
        try {
            await deleteRule(elb, arn);
        }
        catch (error) {
            log.warning(`Could not remove preview rule ${arn}: ${(0,errors/* messageOf */.bD)(error)}`);
            left.push(arn);
        }
    }
    return left;
}
async function readListenerRules(elb, routes) {
    const byListener = new Map();
    return Promise.all(routes.map(async (route) => {
        const listenerArn = listenerOfRoute(route);
        if (!byListener.has(listenerArn))
            byListener.set(listenerArn, listenerRules(elb, listenerArn));
        return { ...route, listenerArn, listenerRules: (await byListener.get(listenerArn)) };
    }));
}
/** This action's preview rules for the pair on the routes' listeners, found by their tag. */
async function previewRulesOf(elb, routes, pair) {
    const seen = new Set();
    const candidates = routes
        .flatMap((r) => r.listenerRules)
        .filter((rule) => mayBePreviewRule(rule, pair) && !seen.has(rule.RuleArn ?? '') && seen.add(rule.RuleArn ?? ''));
    if (candidates.length === 0)
        return [];
    const tags = {};
    for (let i = 0; i < candidates.length; i += 20) {
        Object.assign(tags, await (0,elbv2/* readTags */.g$)(elb, candidates.slice(i, i + 20).map((r) => r.RuleArn)));
    }
    return candidates.filter((rule) => previewedFleet(tags[rule.RuleArn] ?? {}, pair));
}
/** Where each listener answers, for the curl lines; without it the lines name a placeholder. */
async function addressesOf(ctx, routes, warnings) {
    try {
        return await listenerAddresses(ctx.clients.elb, [...new Set(routes.map((r) => r.listenerArn))]);
    }
    catch (error) {
        const message = `Could not read the load balancer's DNS name for the preview's curl line (${(0,errors/* messageOf */.bD)(error)}); grant elasticloadbalancing:DescribeLoadBalancers`;
        ctx.log.warning(message);
        warnings.push(message);
        return {};
    }
}
function ruleReport(plan, addresses, header, value) {
    const address = addresses[plan.listenerArn];
    return {
        listenerArn: plan.listenerArn,
        routeArn: plan.routeArn,
        priority: plan.priority,
        ...(address ? { curl: curlLine(plan, address, header, value) } : {})
    };
}
function previewError(error) {
    const name = error?.name ?? 'Error';
    const hint = /AccessDenied|not authorized/i.test(`${name} ${(0,errors/* messageOf */.bD)(error)}`)
        ? 'grant elasticloadbalancing:CreateRule, and AddTags on listener rules for CreateRule (see the IAM policy in the README)'
        : /TooManyRules|TooManyConditionValues|TooManyTags/.test(name)
            ? 'the listener is at an ALB limit: drop preview-header, or make room'
            : 'run the deploy again, or drop preview-header';
    return new errors/* DeployError */.sH(`Could not open the preview route (${name}: ${(0,errors/* messageOf */.bD)(error)}); ${hint}`);
}

;// CONCATENATED MODULE: ./src/operations/around-traffic.ts






/**
 * before-traffic-commands, once, on one instance of the new fleet, after its commands and health
 * checks, before any traffic. Throws when they fail: the deploy then ends with no traffic moved.
 */
async function runBeforeTrafficCommands(run, pair, newFleet, instances) {
    const lines = run.config.beforeTrafficCommands;
    if (lines.length === 0)
        return;
    try {
        await runHook(run, pair, 'before-traffic', lines, newFleet, instances);
    }
    catch (error) {
        if (run.ctx.signal.aborted)
            throw error;
        throw new errors/* DeployError */.sH(`${(0,errors/* messageOf */.bD)(error)}; no traffic was moved: see its output below, fix it, then deploy again`);
    }
}
/**
 * contract-commands, once, on one instance of the new fleet, after it took all traffic and the
 * final hold passed. The contract is recorded before it is sent: should this run die halfway, a
 * rollback still knows the old fleet may not work with the data. From here on the new fleet keeps
 * the traffic whatever happens: going back is what a contract rules out.
 */
async function runContractCommands(run, pair, newFleet, record, instances, oldFleet) {
    const { ctx, config } = run;
    const lines = config.contractCommands;
    if (lines.length === 0)
        return undefined;
    pair.trafficSettled();
    const live = `${(0,config_arn/* targetGroupName */.IT)(newFleet)}${record.version ? ` (${record.version})` : ''} has all traffic`;
    const contract = {
        state: 'started',
        at: new Date(ctx.clock.now()).toISOString(),
        deployedAt: record.deployedAt ?? 'unknown',
        run: ctx.run.url
    };
    try {
        await pair.guard('Recording the contract', () => recordContract(ctx, newFleet, contract));
    }
    catch (error) {
        return {
            result: 'failed',
            headline: `${live}, but contract-commands did not run: the contract could not be recorded (${(0,errors/* messageOf */.bD)(error)}), and a rollback would not know of it; grant elasticloadbalancing:AddTags on the target groups, then run promote with contract-commands`
        };
    }
    let sent = false;
    try {
        await runHook(run, pair, 'contract', lines, newFleet, instances, () => (sent = true), record.version);
        contract.state = 'done';
        await pair
            .guard('Recording the contract', () => recordContract(ctx, newFleet, contract))
            .catch((e) => around_traffic_warn(run, `Could not record the contract as done: ${(0,errors/* messageOf */.bD)(e)}`));
        return undefined;
    }
    catch (error) {
        const cancelled = ctx.signal.aborted;
        if (!sent) {
            // Nothing went out: nothing was contracted, and the old fleet stays a rollback target.
            await pair
                .guard('Taking back the contract record', () => forgetContract(ctx, newFleet))
                .catch((e) => around_traffic_warn(run, `Could not take back the contract record: ${(0,errors/* messageOf */.bD)(e)}`));
            return {
                result: 'failed',
                headline: `${live}, but contract-commands were not sent (${cancelled ? 'the run was cancelled' : (0,errors/* messageOf */.bD)(error)}); nothing was contracted: fix it, then run promote with contract-commands`
            };
        }
        contract.state = 'failed';
        await pair
            .guard('Recording the failed contract', () => recordContract(ctx, newFleet, contract))
            .catch((e) => around_traffic_warn(run, `Could not record the failed contract: ${(0,errors/* messageOf */.bD)(e)}`));
        const what = cancelled ? 'were interrupted by the cancel' : `failed (${(0,errors/* messageOf */.bD)(error)})`;
        return {
            result: 'failed',
            headline: `${live} and keeps it, but contract-commands ${what}: the data may be half-contracted, so rollback to ${(0,config_arn/* targetGroupName */.IT)(oldFleet)} is refused; fix the contract, then run promote with contract-commands to run it again`
        };
    }
}
/**
 * The preview route of a deploy, planned while nothing has changed yet (a dry run shows it; a
 * listener with no free priority fails the deploy before any command is sent).
 */
async function planPreview(run, found, newFleet) {
    const { config, ctx } = run;
    if (!config.preview)
        return undefined;
    const preview = await PreviewRoute.plan(ctx, { routes: found.routes, pair: found.traffic.pair }, config.preview, config.version, newFleet, run.report.warnings);
    run.report.preview = preview.report;
    return preview;
}
/** The preview rules a paused canary left open, for the promote or rollback that ends it. */
async function findPreview(run, found) {
    const preview = await PreviewRoute.find(run.ctx, { routes: found.routes, pair: found.traffic.pair });
    if (preview)
        run.report.preview = preview.report;
    return preview;
}
async function runHook(run, pair, hook, lines, fleet, instances, onSent, version) {
    const { config } = run;
    const instanceId = chooseHookInstance(instances.map((i) => i.id), instances);
    if (!instanceId) {
        throw new errors/* DeployError */.sH(`${HOOK_INPUT[hook]}: no healthy instance of ${(0,config_arn/* targetGroupName */.IT)(fleet)} to run them on`);
    }
    const sentBefore = run.report.commands?.commandIds ?? [];
    return runOnce(config, pair.ctx, { hook, lines, instanceId, version }, {
        guard: pair.guard,
        onSent: (ids) => {
            onSent?.();
            pair.commandsSent([...sentBefore, ...ids]);
        },
        onReport: (hookRun) => {
            run.report.hooks = [...(run.report.hooks ?? []).filter((h) => h.hook !== hook), hookRun];
        }
    });
}
function around_traffic_warn(run, message) {
    run.ctx.log.warning(message);
    run.report.warnings.push(message);
}

;// CONCATENATED MODULE: ./src/plan/rollback-target.ts




/** Which fleet traffic goes back to, and from which; refuses when that would not be safe. */
function chooseRollbackTarget(found, 
/** A previous fleet that will be scaled back and waited for until healthy before it gets traffic. */
bringingBack) {
    const { traffic, fleets } = found;
    const other = (arn) => traffic.pair.find((a) => a !== arn);
    if (!traffic.percent || traffic.mixed) {
        // Mid-canary or split routes: the stable fleet is the one recorded live, or failing that the one not in canary.
        const stable = traffic.pair.find((arn) => fleets[arn].record.role === 'live') ??
            traffic.pair.find((arn) => fleets[other(arn)].record.role === 'canary');
        if (!stable) {
            throw new errors/* DeployError */.sH(`Traffic is split (${traffic.routes.map((r) => describeWeights(r.weights)).join(' vs ')}) and no record says which fleet is stable; set the weights by hand or deploy with blue-target-group-arn and green-target-group-arn`);
        }
        return { target: stable, from: other(stable), why: `canary of ${(0,config_arn/* targetGroupName */.IT)(other(stable))} undone` };
    }
    const previous = traffic.idle;
    const record = fleets[previous].record;
    // A canary at 0% (staged with canary-steps 0, or stopped before a final record write) is not the
    // previous release: no traffic goes to it; rolling back drops it, traffic stays where it is.
    if (record.role === 'canary') {
        return { target: other(previous), from: previous, why: `staged canary of ${(0,config_arn/* targetGroupName */.IT)(previous)} dropped` };
    }
    // A deploy that has not moved traffic yet (running now, its lock taken over by this rollback, or
    // one that died): rolling back stops it there; its fleet is recorded failed, traffic stays.
    if (record.role === 'deploying') {
        const what = record.version ? ` of ${record.version}` : '';
        return {
            target: other(previous),
            from: previous,
            why: `deploy${what} on ${(0,config_arn/* targetGroupName */.IT)(previous)} stopped before any traffic reached it`
        };
    }
    if (isFailedRole(record.role)) {
        throw new errors/* DeployError */.sH(`${(0,config_arn/* targetGroupName */.IT)(previous)} holds a failed deploy${record.version ? ` of ${record.version}` : ''}, not the previous release; deploy the version you want instead`);
    }
    if (previous === bringingBack)
        return { target: previous, from: other(previous), why: 'back to the previous release' };
    const instances = fleets[previous].instances;
    const unhealthy = instances.filter((t) => t.state !== 'healthy');
    if (instances.length === 0 || unhealthy.length > 0) {
        throw new errors/* DeployError */.sH(`The previous fleet ${(0,config_arn/* targetGroupName */.IT)(previous)} is not healthy (${instances.length === 0 ? 'no registered targets' : describeTargets(unhealthy)}); traffic stays on ${(0,config_arn/* targetGroupName */.IT)(other(previous))}: fix or redeploy the previous version first`);
    }
    return { target: previous, from: other(previous), why: `back to the previous release` };
}
/** A fleet whose deploy failed or never finished: not a release to go back to. */
function isFailedRole(role) {
    return role === 'failed' || role === 'deploying';
}

;// CONCATENATED MODULE: ./src/plan/contract-guard.ts
// When a rollback may send traffic back to the previous fleet after a contract ran. Pure.



/** The contract that binds a fleet now: one recorded for the deploy it runs, not an older one. */
function currentContract(contract, record) {
    return contract && contract.deployedAt === (record.deployedAt ?? 'unknown') ? contract : undefined;
}
/** The contract in words: "contract-commands of v2 ran at … in run …". */
function describeContract(contract, fleet, version) {
    const what = `contract-commands of ${version ?? (0,config_arn/* targetGroupName */.IT)(fleet)} on ${(0,config_arn/* targetGroupName */.IT)(fleet)}`;
    const how = contract.state === 'done'
        ? 'ran'
        : contract.state === 'failed'
            ? 'failed partway'
            : 'started and never reported an end';
    return `${what} ${how} at ${contract.at} in ${contract.run}`;
}
/**
 * A rollback leaves `from` for `target`. Once `from` ran its contract, the previous release's code
 * may not work with the data any more (a column it reads is gone), so sending users back to it
 * could turn a bad release into an outage. Refused unless the user says it is safe; then a
 * warning says what was overridden.
 */
function judgeRollbackPastContract(from, target, allowed) {
    if (!from.contract)
        return {};
    const contract = describeContract(from.contract, from.arn, from.version);
    const back = `${(0,config_arn/* targetGroupName */.IT)(target.arn)}${target.version ? ` (${target.version})` : ''}`;
    if (allowed) {
        return {
            warning: `Rolling back past a contract, as allow-rollback-past-contract asks: ${contract}; ${back} may fail on the data it changed`
        };
    }
    throw new errors/* DeployError */.sH(`Rollback refused: ${contract}, so ${back} may no longer work with the data; deploy a fix forward instead (a new version goes to ${(0,config_arn/* targetGroupName */.IT)(target.arn)}), or set allow-rollback-past-contract: true if you know ${back} still works`);
}
/** Whether a rollback now would be safe, in one line for status. */
function rollbackSafety(found) {
    let choice;
    try {
        choice = chooseRollbackTarget(found);
    }
    catch (error) {
        return { safe: false, line: `No safe rollback target: ${error.message}` };
    }
    const target = found.fleets[choice.target];
    const from = found.fleets[choice.from];
    const back = `${(0,config_arn/* targetGroupName */.IT)(choice.target)}${target.record.version ? ` (${target.record.version})` : ''}`;
    const contract = currentContract(from.contract, from.record);
    if (choice.target !== found.traffic.live && contract) {
        return {
            safe: false,
            line: `${back} is NOT a safe rollback target: ${describeContract(contract, choice.from, from.record.version)}; deploy a fix forward`
        };
    }
    if (choice.target === found.traffic.live) {
        return { safe: true, line: `A rollback keeps all traffic on ${back}: ${choice.why}` };
    }
    return { safe: true, line: `${back} is a safe rollback target: ${choice.why}, healthy, no contract since` };
}

;// CONCATENATED MODULE: ./src/operations/discover.ts










/** Reads everything a run decides from: routes, weights, the pair's groups, records, health. */
async function discover(config, elb, routesAtStart) {
    const firstRead = await (routesAtStart ?? (0,elbv2/* readRoutes */.Fj)(elb, config.listenerArns, config.ruleArns));
    const defaultRule = defaultRuleProblem(firstRead);
    // The pair is found on the default rule's actions too, so that problem is reported, not a worse one.
    const firstTraffic = readTrafficState(firstRead, config.pair);
    const pair = firstTraffic.pair;
    const [groups, tags, health, targetSticky] = await Promise.all([
        (0,elbv2/* describeTargetGroups */.t4)(elb, pair),
        (0,elbv2/* readTags */.g$)(elb, pair),
        Promise.all(pair.map((arn) => (0,elbv2/* targetHealth */.kG)(elb, arn))),
        (0,elbv2/* readTargetStickiness */.io)(elb, pair)
    ]);
    for (const group of groups) {
        if (group.TargetType !== 'instance') {
            throw new errors/* DeployError */.sH(`Target group ${group.TargetGroupName} has target type ${group.TargetType}; this action deploys to EC2 instances through SSM, so both groups must use target type instance`);
        }
    }
    // Every route of the load balancers that use the pair: one that forwards to it unlisted would
    // keep sending traffic where a shift no longer expects any.
    const loadBalancers = [...new Set(groups.flatMap((g) => g.LoadBalancerArns ?? []))];
    const allRoutes = await (0,elbv2/* readLoadBalancerRoutes */.N)(elb, loadBalancers);
    // The given routes as this last read shows them: one snapshot, so that a run never reports (or
    // decides from) weights older than the last ones it saw.
    const routes = firstRead.map((r) => ({ ...r, actions: allRoutes.find((a) => a.arn === r.arn)?.actions ?? r.actions }));
    const traffic = readTrafficState(routes, { blue: pair[0], green: pair[1] });
    const previews = await previewRules(elb, allRoutes, pair);
    const unlisted = unlistedRoutesProblem(allRoutes, routes, traffic.pair, config, previews);
    const fleets = Object.fromEntries(pair.map((arn, i) => {
        const record = recordFromTags(tags[arn]);
        const contract = currentContract(decodeContract(tags[arn][CONTRACT_TAG]), record);
        return [
            arn,
            {
                arn,
                name: (0,config_arn/* targetGroupName */.IT)(arn),
                record,
                instances: health[i],
                cadence: healthCadence(groups[i]),
                targetSticky: targetSticky[arn],
                ...(contract ? { contract } : {})
            }
        ];
    }));
    return { routes, traffic, fleets, problems: [defaultRule, unlisted].filter((p) => !!p) };
}
/**
 * This action's own preview rules (a header condition, a forward to one group of the pair, the
 * preview tag): they belong to a paused canary, not routes the run must be given.
 */
async function previewRules(elb, routes, pair) {
    const candidates = routes.filter((r) => r.kind === 'rule' && mayBePreviewRule({ RuleArn: r.arn, Actions: r.actions, Conditions: r.conditions }, pair));
    const previews = [];
    for (let i = 0; i < candidates.length; i += 20) {
        const tags = await (0,elbv2/* readTags */.g$)(elb, candidates.slice(i, i + 20).map((r) => r.arn));
        previews.push(...Object.keys(tags).filter((arn) => previewedFleet(tags[arn], pair)));
    }
    return previews;
}
/** A run that is about to change something refuses settings that cannot work, before any change. */
function refuseProblems(found) {
    if (found.problems.length > 0)
        throw found.problems[0];
}
/** Either group of the pair has target-level stickiness on. */
function pairTargetSticky(found) {
    return Object.values(found.fleets).some((f) => f.targetSticky);
}

;// CONCATENATED MODULE: ./src/plan/records-for-traffic.ts

/**
 * The records that say where traffic is, when someone else (a person in the console) moved it
 * during a run: the new fleet taken back to 0 held a canary that was stopped, so it is `failed`
 * (a rollback must not return to it); moved to all of it, it is `live` and the old one `previous`;
 * still split, the records stay canary and live. Routes that disagree change nothing: a rollback
 * sorts them out from the records as they are.
 */
function recordsForTraffic(routes, pair, fleets) {
    const { newFleet, stableFleet, records } = fleets;
    let live;
    let mixed = false;
    try {
        const state = readTrafficState(routes, { blue: pair[0], green: pair[1] });
        if (!state.percent)
            return records;
        live = state.live;
        mixed = state.mixed;
    }
    catch {
        return records;
    }
    if (mixed || !live)
        return records;
    if (live === stableFleet) {
        return {
            ...records,
            [newFleet]: { ...records[newFleet], role: 'failed' },
            [stableFleet]: { ...records[stableFleet], role: 'live' }
        };
    }
    return {
        ...records,
        [newFleet]: { ...records[newFleet], role: 'live' },
        [stableFleet]: { ...records[stableFleet], role: 'previous' }
    };
}

;// CONCATENATED MODULE: ./src/records/lock-claim.ts
// The pair's lock as data: where it lives in Parameter Store, what a claim says, and how a run
// judges the claim it finds. Pure; the reads and writes are in parameter-lock.ts.

/**
 * The lease: short, so that a run killed together with its post step blocks the pair for minutes,
 * not for its whole timeout; renewed well before it ends while the run works.
 */
const LEASE_MS = 2 * 60_000;
const RENEW_AFTER_MS = 30_000;
/** A lease is judged expired only this long after its end, so that runner clocks may disagree a little. */
const CLOCK_SKEW_MS = 5_000;
/**
 * A run that took the lock over from another (expired, or forced by a rollback) reads it again
 * after this long before it changes anything; see the race analysis in parameter-lock.ts.
 */
const TAKEOVER_SETTLE_MS = 4_000;
/** The longest from sending the lock read that justified a write to that write's answer. */
const WRITE_WITHIN_MS = TAKEOVER_SETTLE_MS / 2;
const DEFAULT_PARAMETER_PREFIX = '/bluegreen';
/**
 * `<prefix>/pair/<name of the alphabetically first target group of the pair>/lock`: the same name
 * whichever way round the pair was found. Parameter names allow no colon, so the group's name
 * (unique in its account and region, like the parameter) stands for its ARN.
 */
function lockParameterName(prefix, pair) {
    const first = [...pair].sort()[0];
    return `${prefix.replace(/\/+$/, '')}/pair/${(0,config_arn/* targetGroupName */.IT)(first)}/lock`;
}
function encodeClaim(claim) {
    return JSON.stringify({
        runId: claim.runId,
        runUrl: claim.runUrl,
        operation: claim.operation,
        expiresAt: new Date(claim.expiresAt).toISOString()
    });
}
/** The claim in a lock parameter's value; undefined when the value is not one. */
function decodeClaim(value) {
    if (!value)
        return undefined;
    try {
        const parsed = JSON.parse(value);
        const expiresAt = typeof parsed.expiresAt === 'string' ? Date.parse(parsed.expiresAt) : NaN;
        if (typeof parsed.runId !== 'string' || !parsed.runId || Number.isNaN(expiresAt))
            return undefined;
        return {
            runId: parsed.runId,
            runUrl: typeof parsed.runUrl === 'string' ? parsed.runUrl : '',
            operation: typeof parsed.operation === 'string' ? parsed.operation : '',
            expiresAt
        };
    }
    catch {
        return undefined;
    }
}
/** How a run sees the lock parameter's current value (undefined: the parameter does not exist). */
function judgeLock(value, runId, now) {
    if (value === undefined)
        return { kind: 'free' };
    const claim = decodeClaim(value);
    if (!claim)
        return { kind: 'unreadable', value };
    if (claim.runId === runId)
        return { kind: 'mine', claim };
    return now > claim.expiresAt + CLOCK_SKEW_MS ? { kind: 'expired', claim } : { kind: 'held', claim };
}
/** A run holding the lock renews its lease once this much of it has passed. */
function renewalDue(claim, now) {
    return claim.expiresAt - now <= LEASE_MS - RENEW_AFTER_MS;
}
/** How long to wait before looking at a held lock again, within what is left of lock-wait. */
function lockPollMs(waitedMs, lockWaitMs) {
    return Math.max(0, Math.min(5_000, lockWaitMs - waitedMs));
}
/** "run https://…/runs/1/attempts/1 (deploy, until 12:03:00Z)" for errors and warnings. */
function describeHolder(claim) {
    return `${claim.runUrl || claim.runId} (${claim.operation || 'an operation'}, lease until ${new Date(claim.expiresAt).toISOString()})`;
}

;// CONCATENATED MODULE: ./src/aws/parameter-store.ts

/** The parameter, or undefined when it does not exist (ParameterNotFound). */
async function readParameter(ssm, name) {
    try {
        const { Parameter } = await ssm.send(new client_ssm_dist_cjs/* GetParameterCommand */.lhy({ Name: name }));
        return { value: Parameter?.Value ?? '', version: Parameter?.Version ?? 0 };
    }
    catch (error) {
        if (error?.name === 'ParameterNotFound')
            return undefined;
        throw error;
    }
}
/**
 * Creates the parameter only if it does not exist (Overwrite: false): Parameter Store's one atomic
 * operation, so of runs creating it at the same moment exactly one succeeds. Returns false when it
 * already exists (ParameterAlreadyExists).
 */
async function createParameter(ssm, name, value) {
    try {
        await ssm.send(new client_ssm_dist_cjs/* PutParameterCommand */.ihh({ Name: name, Value: value, Type: 'String', Overwrite: false }));
        return true;
    }
    catch (error) {
        if (error?.name === 'ParameterAlreadyExists')
            return false;
        throw error;
    }
}
/** Writes the parameter whether or not it exists; returns the new version. */
async function overwriteParameter(ssm, name, value) {
    const { Version } = await ssm.send(new client_ssm_dist_cjs/* PutParameterCommand */.ihh({ Name: name, Value: value, Type: 'String', Overwrite: true }));
    return Version ?? 0;
}
/** Deletes the parameter; false when it did not exist. */
async function deleteParameter(ssm, name) {
    try {
        await ssm.send(new client_ssm_dist_cjs/* DeleteParameterCommand */.Obs({ Name: name }));
        return true;
    }
    catch (error) {
        if (error?.name === 'ParameterNotFound')
            return false;
        throw error;
    }
}

;// CONCATENATED MODULE: ./src/records/lock-window.ts
// The window in which a write made under the lock may be sent (rule 3 of parameter-lock.ts): each
// attempt goes out within WRITE_WITHIN_MS of sending a read that showed the claim as this run's,
// through the clients' send gate (aws/send-gate.ts), however long the SDK's retries run.



/** Reads the lock again quickly enough this many times at most before a change is given up. */
const RECONFIRM_ATTEMPTS = 5;
class SendWindowClosed extends Error {
    constructor() {
        super('The deploy lock was read too long ago to send this change');
        this.name = 'SendWindowClosed';
    }
}
/**
 * Sends a write of the lock itself only within WRITE_WITHIN_MS of the read it rests on: undefined
 * when the SDK could only have sent it (or retried it) later. There is nothing to read again for:
 * the read was the judgement.
 */
async function sendWithin(clock, readSent, what, write) {
    const window = new SendWindow(clock, readSent, what, () => {
        throw new SendWindowClosed();
    });
    try {
        return await (0,send_gate/* withSendGate */.u4)(window, write);
    }
    catch (error) {
        if (error instanceof SendWindowClosed)
            return undefined;
        throw error;
    }
}
/**
 * The gate of one change made under the lock (send-gate.ts): an attempt goes out only within
 * WRITE_WITHIN_MS of sending a read that showed the claim as this run's, the rule the race
 * analysis in parameter-lock.ts rests on. A later attempt (the SDK retrying a throttled one, or
 * one after a slow first read) waits for `reconfirm` to read the lock again, which throws when the
 * lock is no longer this run's; the retries throttling needs go on, each within its own window.
 */
class SendWindow {
    clock;
    readAt;
    what;
    reconfirm;
    pending;
    constructor(clock, 
    /** When the read that lets attempts go now was sent. */
    readAt, what, reconfirm) {
        this.clock = clock;
        this.readAt = readAt;
        this.what = what;
        this.reconfirm = reconfirm;
    }
    async beforeSend() {
        for (let attempt = 1; this.clock.now() - this.readAt > WRITE_WITHIN_MS; attempt++) {
            if (attempt > RECONFIRM_ATTEMPTS) {
                throw new errors/* DeployError */.sH(`${this.what} was not sent: AWS answered ${RECONFIRM_ATTEMPTS} reads of the deploy lock too slowly to be sure this run still holds it (each must take under ${WRITE_WITHIN_MS / 1000}s)`);
            }
            // Attempts sent side by side share one read; the read itself passes no gate.
            this.pending ??= (0,send_gate/* outsideSendGate */.Tl)(this.reconfirm).finally(() => (this.pending = undefined));
            this.readAt = await this.pending;
        }
    }
}

;// CONCATENATED MODULE: ./src/records/parameter-lock.ts
// The pair's lock, held in one SSM Parameter Store parameter (lock-claim.ts says where and what).
//
// Why it is safe, and where AWS leaves a gap (the race analysis):
//
// 1. Taking a free lock is PutParameter with Overwrite false. Parameter Store creates a name once:
//    of any number of runs creating it at the same moment exactly one succeeds, the others get
//    ParameterAlreadyExists. No settle time, no read-back: this is the common case.
//
// 2. Taking a lock over (its lease ended, or a rollback forces it) cannot be a compare-and-set:
//    Parameter Store has no conditional overwrite or delete, and a version returned by PutParameter
//    only tells afterwards that someone else wrote in between, when the other write is already
//    clobbered. So a take-over overwrites the claim it judged, and two rules make it safe:
//    - the overwrite must be answered within WRITE_WITHIN_MS of sending the read that judged the
//      claim (no attempt of it is sent later); a slower one may have replaced a newer claim, so
//      the run gives its claim back (deletes it, if it still reads as its own) and looks again;
//    - the run then waits TAKEOVER_SETTLE_MS (twice WRITE_WITHIN_MS) and reads the lock again; it
//      holds the lock only if the claim is still its own, and changes nothing before that.
//    Runs A and B judging the same expired claim: B's read was answered before A's overwrite
//    (otherwise B would have seen A's fresh claim), so B's overwrite landed within WRITE_WITHIN_MS
//    of A's; A reads again TAKEOVER_SETTLE_MS after its own and sees B's claim: A gives way, B
//    holds. A stale overwrite that replaces a run's fresh claim (taken by rule 1) makes that run
//    lose the lock at its next change (rule 3). Only local durations are compared: no two runners'
//    clocks need to agree.
//
// 3. A holder learns that it lost the lock (to a forced rollback, or after its lease ran out)
//    because every change it makes to AWS goes through guard(): the lock is read immediately
//    before, and no attempt of the change is sent later than WRITE_WITHIN_MS after that read. An
//    attempt the SDK would send later (it retries a throttled call for up to a minute) first reads
//    the lock again and goes only if the claim is still this run's, within WRITE_WITHIN_MS of that
//    read (lock-window.ts, through the clients' send gate). A take-over changes nothing until
//    TAKEOVER_SETTLE_MS after its overwrite, so every attempt of the holder sent before the
//    take-over was seen has landed before the new holder's first change, unless it spent more than
//    TAKEOVER_SETTLE_MS - WRITE_WITHIN_MS in flight; every later attempt finds the claim gone and
//    is not sent. A change answered later than WRITE_WITHIN_MS after its last read (a slow network)
//    is followed by another read; if the claim is gone by then, the run says loudly that its last
//    change may have landed after the other run's.
//
// 4. Renewing the lease overwrites the claim, right after a read that shows it is still this run's
//    (never later than WRITE_WITHIN_MS after it: a renewal only the SDK's retries could send later
//    is skipped, and the next read renews). Parameter Store numbers every write of a parameter: the
//    renewal's version must follow the read's directly, or another run (a take-over) wrote in
//    between and the renewal replaced its claim. That run may already have had its second look, so
//    neither can tell which one the other believes holds the pair: this run stops and gives the
//    claim back (the other run finds it gone at its next change and stops too: safe, and a forced
//    rollback simply tries again). Releasing deletes the claim right after a read that shows it is
//    still this run's: a new one, or the read before the run's last change when that was sent less
//    than WRITE_WITHIN_MS ago (the run's records are written just before it lets go, and the
//    argument below measures from the read either way); like a change, the delete is sent within
//    WRITE_WITHIN_MS of a read that showed the claim. A delete answered within TAKEOVER_SETTLE_MS
//    of that read lands before the second look of any take-over made after the read, which then
//    finds the lock free and creates it again. A slower one could remove a take-over's claim after
//    its second look: that run stops at its next change, which is safe; the run says so. Leaving
//    the lock to its lease instead would block every run for up to LEASE_MS.
//
// The gap that remains: a request is applied somewhere between being sent and being answered. The
// rules bound when an attempt is sent, and a slow answer is treated as suspect where it matters,
// but an attempt that spends seconds in flight (a stalled connection) can still land after another
// run's first change; a release's delete that lands that late removes that run's claim (it then
// finds the lock gone at its next change and stops: safe, not live). Closing this would need a
// conditional write on the listener itself, which ELBv2 does not offer.






/** Reads a release makes before it leaves the lock to its lease. */
const RELEASE_ATTEMPTS = 4;
/** For changes made where no lock applies (tests, tools): runs them as they are. */
const unguarded = (_what, change) => change();
const MAX_ATTEMPTS = 20;
/** Takes the pair's lock, waiting up to `waitMs` for a live holder (unless forced). */
async function takeLock(options) {
    const { ssm, name, clock, log } = options;
    const started = clock.now();
    let announcedWait = false;
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
        options.signal?.throwIfAborted();
        const claim = newClaim(options);
        if (await createParameter(ssm, name, encodeClaim(claim))) {
            log.info(`Took the deploy lock ${name}`);
            return new HeldLock(options, claim);
        }
        const readSent = clock.now();
        const state = judgeLock((await readParameter(ssm, name))?.value, options.run.id, clock.now());
        switch (state.kind) {
            case 'free':
                continue; // released meanwhile: create it again
            case 'mine':
                // An earlier attempt of the same create succeeded and its answer was lost (SDK retry).
                return new HeldLock(options, state.claim);
            case 'unreadable':
                if (!options.force) {
                    throw new errors/* DeployError */.sH(`Parameter ${name} is where this action keeps the deploy lock, but it holds something else (${JSON.stringify(state.value.slice(0, 80))}); delete it or choose another parameter-prefix`);
                }
                break;
            case 'held':
                if (!options.force) {
                    const waited = clock.now() - started;
                    if (waited >= options.waitMs) {
                        throw new errors/* DeployError */.sH(`Another run holds the deploy lock ${name}: ${describeHolder(state.claim)}; wait for it to finish, or cancel it (its post step releases the lock)${options.waitMs > 0 ? ` (waited ${Math.round(waited / 1000)}s, lock-wait)` : ', or set lock-wait to wait for it'}`);
                    }
                    if (!announcedWait)
                        log.info(`Waiting up to ${Math.round(options.waitMs / 1000)}s (lock-wait) for the deploy lock held by ${describeHolder(state.claim)}`);
                    announcedWait = true;
                    await clock.sleep(lockPollMs(waited, options.waitMs), options.signal);
                    continue;
                }
                log.warning(`Taking the deploy lock from ${describeHolder(state.claim)}: a rollback goes first; that run stops changing traffic at its next change`);
                break;
            case 'expired':
                log.warning(`Taking over the deploy lock from ${describeHolder(state.claim)}: its lease ended, so that run died without releasing it`);
                break;
        }
        const taken = await takeOver(options, readSent, state);
        if (taken)
            return taken;
    }
    throw new errors/* DeployError */.sH(`Could not take the deploy lock ${name} after ${MAX_ATTEMPTS} attempts: other runs keep taking it; run this one again once they have finished`);
}
/**
 * Overwrites the claim that was judged, then looks again after TAKEOVER_SETTLE_MS (rule 2);
 * undefined when another run got in first, so the caller looks again.
 */
async function takeOver(options, readSent, seen) {
    const { ssm, name, clock } = options;
    const lock = new HeldLock(options, newClaim(options));
    // An attempt the SDK would retry after WRITE_WITHIN_MS is not sent: the claim judged may have
    // been replaced by then. Looking again is what is left.
    const written = await sendWithin(clock, readSent, 'Taking the deploy lock over', () => overwriteParameter(ssm, name, encodeClaim(newClaim(options))));
    if (written === undefined || clock.now() - readSent > WRITE_WITHIN_MS) {
        await lock.release().catch(() => undefined);
        return undefined;
    }
    try {
        await clock.sleep(TAKEOVER_SETTLE_MS, options.signal);
    }
    catch (error) {
        await lock.release().catch(() => undefined);
        throw error;
    }
    const after = judgeLock((await readParameter(ssm, name))?.value, options.run.id, clock.now());
    if (after.kind !== 'mine')
        return undefined;
    lock.adopt(after.claim);
    options.log.info(`Took the deploy lock ${name}${seen.kind === 'held' || seen.kind === 'expired' ? ` over from ${seen.claim.runUrl || seen.claim.runId}` : ''}`);
    return lock;
}
/**
 * The lock as a run that may hold it sees it, without taking it: the post step, which must change
 * nothing unless its main step's claim is still the lock.
 */
function resumeLock(options) {
    return new HeldLock(options, undefined);
}
function newClaim(options) {
    return {
        runId: options.run.id,
        runUrl: options.run.url,
        operation: options.operation,
        expiresAt: options.clock.now() + LEASE_MS
    };
}
class HeldLock {
    options;
    claim;
    lost = false;
    lostError;
    holder;
    // When the last read that showed this run's claim was sent: a release right after a guarded
    // change (the records) deletes on that read instead of reading again (rule 4 measures from it).
    confirmedAt;
    // One lock operation at a time: a renewal from a wait must not interleave with a guarded change.
    queue = Promise.resolve();
    constructor(options, claim) {
        this.options = options;
        this.claim = claim;
    }
    get name() {
        return this.options.name;
    }
    adopt(claim) {
        this.claim = claim;
    }
    confirm() {
        return this.serial(async () => {
            await this.check();
        });
    }
    guard(what, change) {
        return this.serial(async () => {
            const window = new SendWindow(this.options.clock, await this.check(), what, () => this.check());
            const result = await (0,send_gate/* withSendGate */.u4)(window, change);
            const took = this.options.clock.now() - window.readAt;
            if (took > WRITE_WITHIN_MS) {
                const state = await this.read();
                if (state.kind !== 'mine') {
                    throw this.markLost(state, `${what} took ${(took / 1000).toFixed(1)}s to be answered, and meanwhile another run took the deploy lock: this change may have landed after that run's first one; run status to see where traffic is`, true);
                }
            }
            return result;
        });
    }
    keepAlive() {
        if (this.lost || !this.claim || !renewalDue(this.claim, this.options.clock.now()))
            return Promise.resolve();
        return this.confirm().catch((error) => {
            if (!(error instanceof errors/* LockLostError */.yx))
                this.options.log.warning(`Could not renew the deploy lock's lease: ${error.message}`);
        });
    }
    release() {
        return this.serial(async () => {
            const { clock } = this.options;
            if (this.lost)
                return false;
            // The read before the last change is as good as a new one while it is this recent.
            if (this.confirmedAt !== undefined && clock.now() - this.confirmedAt <= WRITE_WITHIN_MS) {
                return this.deleteClaim(this.confirmedAt);
            }
            for (let attempt = 1; attempt <= RELEASE_ATTEMPTS; attempt++) {
                if (this.lost)
                    return false;
                const sent = clock.now();
                let state;
                try {
                    state = await this.read();
                }
                catch (error) {
                    // Throttled beyond the SDK's retries, say: the next attempt may get through.
                    if (attempt === RELEASE_ATTEMPTS)
                        throw error;
                    continue;
                }
                if (state.kind !== 'mine') {
                    this.markLost(state, '');
                    return false;
                }
                // A read answered slowly (throttling, a slow network) says little about now: read again,
                // a few times; then release anyway (rule 4: a lock left to its lease blocks every run).
                if (clock.now() - sent > WRITE_WITHIN_MS && attempt < RELEASE_ATTEMPTS)
                    continue;
                return this.deleteClaim(sent);
            }
            return false;
        });
    }
    /** Deletes the claim that a read sent at `readSent` showed as this run's (rule 4). */
    async deleteClaim(readSent) {
        const { clock, log } = this.options;
        const window = new SendWindow(clock, readSent, 'Releasing the deploy lock', () => this.check());
        try {
            await (0,send_gate/* withSendGate */.u4)(window, () => deleteParameter(this.options.ssm, this.options.name));
        }
        catch (error) {
            if (error instanceof errors/* LockLostError */.yx)
                return false;
            throw error;
        }
        this.lost = true;
        const took = clock.now() - window.readAt;
        if (took > TAKEOVER_SETTLE_MS) {
            log.warning(`Releasing the deploy lock took ${Math.round(took / 1000)}s (AWS answered slowly): a rollback that took it over in that time would find it gone and stop; run such a rollback again`);
        }
        return true;
    }
    /** Reads the lock; returns when that read was sent, or throws LockLostError. Renews when due. */
    async check() {
        if (this.lost)
            throw this.lostError ?? this.newLostError('');
        const { clock } = this.options;
        const sent = clock.now();
        const { state, version } = await this.readVersioned();
        if (state.kind !== 'mine')
            throw this.markLost(state, '');
        this.claim = state.claim;
        this.confirmedAt = sent;
        if (renewalDue(state.claim, clock.now())) {
            const renewed = { ...state.claim, expiresAt: clock.now() + LEASE_MS };
            // A renewal the SDK could only send late is skipped (the next check renews): sent late, it
            // could replace a take-over's claim after that run's second look.
            const written = await sendWithin(clock, sent, 'Renewing the deploy lock', () => overwriteParameter(this.options.ssm, this.options.name, encodeClaim(renewed)));
            if (written === undefined)
                return sent;
            if (written !== version + 1) {
                // Someone wrote between the read and the renewal (rule 4): a take-over, whose claim the
                // renewal just replaced. Neither run can tell which one the other believes holds the pair,
                // so this one stops, and gives the claim back for the other run's second look.
                await this.giveBack();
                throw this.markLost({ kind: 'free' }, 'Another run wrote the deploy lock while this run renewed it (a take-over); this run stops changing traffic', true);
            }
            this.claim = renewed;
        }
        return sent;
    }
    async read() {
        return (await this.readVersioned()).state;
    }
    async readVersioned() {
        const stored = await readParameter(this.options.ssm, this.options.name);
        return {
            state: judgeLock(stored?.value, this.options.run.id, this.options.clock.now()),
            version: stored?.version ?? 0
        };
    }
    /** Deletes the lock if it still shows this run's claim (best effort: the lease ends anyway). */
    async giveBack() {
        const { clock } = this.options;
        const sent = clock.now();
        const state = await this.read().catch(() => undefined);
        if (state?.kind !== 'mine' || clock.now() - sent > WRITE_WITHIN_MS)
            return;
        await sendWithin(clock, sent, 'Giving the deploy lock back', () => deleteParameter(this.options.ssm, this.options.name)).catch(() => undefined);
    }
    markLost(state, message, raced = false) {
        this.lost = true;
        if (state.kind === 'held' || state.kind === 'expired')
            this.holder = state.claim;
        this.lostError = this.newLostError(message, raced);
        return this.lostError;
    }
    newLostError(message, raced = false) {
        const who = this.holder ? `${describeHolder(this.holder)} holds it now` : 'it was released or taken by another run';
        return new errors/* LockLostError */.yx(message ||
            `This run no longer holds the deploy lock ${this.options.name} (${who}); it leaves traffic and records to that run`, this.holder ? describeHolder(this.holder) : undefined, raced);
    }
    serial(work) {
        const next = this.queue.then(work, work);
        this.queue = next.catch(() => undefined);
        return next;
    }
}

;// CONCATENATED MODULE: ./src/records/claim-pair.ts






/** Traffic moved between the run's first look and its lock: what it decided may no longer hold. */
class PlanAgainError extends errors/* DeployError */.sH {
    name = 'PlanAgainError';
}
/**
 * Takes the pair's lock for a run that will change it (records/parameter-lock.ts), waiting up to
 * lock-wait for another run's. Everything the run decided so far was decided before the lock: a
 * run that finished meanwhile may have made the idle fleet live, and going on would then hit the
 * fleet serving the users. So the weights are read again once the lock is this run's; if they
 * moved, the lock is given back and the run plans again from what AWS shows now. A forced take-over
 * (a rollback) decides again under the lock itself.
 */
async function claimThePair(ctx, config, found, operation, force) {
    const lock = await takeLock({
        ssm: ctx.clients.ssm,
        name: lockParameterName(config.parameterPrefix, found.traffic.pair),
        run: ctx.run,
        operation,
        clock: ctx.clock,
        log: ctx.log,
        signal: ctx.signal,
        waitMs: force ? 0 : config.lockWaitMs,
        force
    });
    if (force)
        return lock;
    let changed;
    try {
        changed = await routesChangedSince(ctx, found);
    }
    catch (error) {
        await lock.release().catch(() => undefined);
        throw error;
    }
    if (changed) {
        await lock.release().catch(() => undefined);
        throw new PlanAgainError(`Traffic changed while this run was starting (${changed})`);
    }
    return lock;
}
/** What changed on the routes since `found` was read, or undefined when nothing did. */
async function routesChangedSince(ctx, found) {
    const now = await (0,elbv2/* rereadRoutes */._z)(ctx.clients.elb, found.routes);
    for (const { route, weights } of found.traffic.routes) {
        const current = now.find((r) => r.arn === route.arn);
        const after = current ? pairWeights(current, found.traffic.pair) : {};
        if (found.traffic.pair.some((arn) => after[arn] !== weights[arn])) {
            return `${describeWeights(weights)} became ${describeWeights(after)}`;
        }
    }
    return undefined;
}

;// CONCATENATED MODULE: ./src/report/report.ts
/** An empty report for a run starting now: filled in as the run goes. */
function newReport(config, startedAt, runUrl) {
    return {
        operation: config.operation,
        dryRun: config.dryRun,
        result: 'unchanged',
        headline: '',
        startedAt,
        finishedAt: startedAt,
        version: config.operation === 'deploy' ? config.version : undefined,
        runUrl,
        fleets: [],
        routes: [],
        timeline: [],
        analysis: [],
        warnings: [],
        outputs: {}
    };
}

;// CONCATENATED MODULE: ./src/operations/lifecycle.ts
// The beginning and the endings every operation shares: the report and deadline, the lock and
// the state that crosses to the post step, and the few ways a run can end. Written once, so that
// each operation's own file is only its story.











/** One operation under way: its report, its deadline, and how it ends. */
class OperationRun {
    config;
    ctx;
    report;
    deadline;
    constructor(config, ctx) {
        this.config = config;
        this.ctx = ctx;
        this.report = newReport(config, ctx.clock.now(), ctx.run.url);
        this.deadline = this.report.startedAt + config.timeoutMs;
    }
    /** Ends the run: the result, the one line that says what happened, and the log's last word. */
    finish(result, headline) {
        Object.assign(this.report, { result, headline, finishedAt: this.ctx.clock.now() });
        const line = `Result: ${result}. ${headline}`;
        // A rollback that put traffic back did what it was asked: only an undone deploy or promote is an error.
        const asked = this.report.operation === 'rollback' && result === 'rolled-back';
        if (result === 'failed' || (result === 'rolled-back' && !asked))
            this.ctx.log.error(line);
        else
            this.ctx.log.info(line);
        return this.report;
    }
    /** Ends the run with the fleets and routes as `found` had them and as they are `after`. */
    end(found, after, result, headline) {
        describeFleetsAndRoutes(this.report, found, after);
        return this.finish(result, headline);
    }
    /** Warnings about the plan go to the log and the summary, in the dry run too. */
    warnAboutPlan(warnings) {
        for (const warning of warnings) {
            this.ctx.log.warning(`Plan: ${warning}`);
            this.report.warnings.push(warning);
        }
    }
    /** A dry run ends having read everything and changed nothing. */
    dryRun(found, headline) {
        return this.end(found, { routes: found.routes }, 'unchanged', headline);
    }
}
/** Fills the fleets and routes tables from the state before and after the run. */
function describeFleetsAndRoutes(report, before, after) {
    const pair = before.traffic.pair;
    const weightBefore = averagePercent(before.routes, pair);
    const weightAfter = averagePercent(after.routes, pair);
    report.fleets = pair.map((arn) => {
        const fleet = before.fleets[arn];
        const recordAfter = after.records?.[arn] ?? fleet.record;
        return {
            targetGroupArn: arn,
            name: fleet.name,
            roleBefore: fleet.record.role ?? roleFromWeight(weightBefore[arn]),
            roleAfter: recordAfter.role ?? roleFromWeight(weightAfter[arn]),
            versionBefore: fleet.record.version,
            versionAfter: recordAfter.version,
            deployedAt: recordAfter.deployedAt,
            deployedBy: recordAfter.deployedBy,
            weightBefore: weightBefore[arn],
            weightAfter: weightAfter[arn],
            instances: (after.fleets ?? before.fleets)[arn].instances,
            ...(fleet.autoScaling ? { autoScaling: fleet.autoScaling } : {})
        };
    });
    report.routes = before.routes.map((route) => {
        const afterRoute = after.routes.find((r) => r.arn === route.arn) ?? route;
        return {
            arn: route.arn,
            label: (0,config_arn/* routeLabel */.qA)(route.arn),
            before: toPercent(pairWeights(route, pair)),
            after: toPercent(pairWeights(afterRoute, pair))
        };
    });
    report.outputs.weights = toPercent(pairWeights(after.routes[0], pair));
}
function roleFromWeight(percent) {
    return percent === 100 ? 'live' : percent === 0 ? 'idle' : 'canary';
}
/**
 * Takes the pair's lock, saves what the post step needs, runs `work`, and whatever happens in it
 * releases the lock (if it is still this run's) and marks the run finished, unless traffic is left
 * for the post step to put back: then the lock stays too, so that no other run moves traffic in
 * between. A run that lost the lock ends finished: its post step leaves everything to the holder.
 */
async function withThePair(run, found, claim, work) {
    const { ctx, config } = run;
    // Saved before the lock is created: a runner killed between the create and the next save would
    // otherwise leave a post step that knows nothing of the lock, and the pair blocked for a lease.
    // Nothing else is in it yet, so that post step only releases a claim it finds to be its own.
    const taking = progressBeforeTheLock(run, found, claim);
    ctx.saveProgress(structuredClone(taking));
    let lock;
    try {
        lock = await claimThePair(ctx, config, found, claim.operation, claim.force === true);
    }
    catch (error) {
        // Not taken (another run holds it, or traffic moved meanwhile and the run plans again).
        ctx.saveProgress({ ...taking, finished: true });
        throw error;
    }
    const lost = new AbortController();
    const signal = AbortSignal.any([ctx.signal, lost.signal]);
    // Every wait of the run renews the lease; a renewal that finds the lock taken stops the run
    // where it waits (commands are cancelled, holds end) instead of at its next change.
    const clock = withHeartbeat(ctx.clock, async () => {
        await lock.keepAlive();
        if (lock.lost && !lost.signal.aborted)
            lost.abort(lock.lostError);
    });
    const progress = {
        ...taking,
        newFleet: claim.newFleet,
        stableFleet: claim.stableFleet,
        restore: claim.restore,
        expected: Object.fromEntries(found.traffic.routes.map(({ route, weights }) => [route.arn, [{ ...weights }]])),
        trafficMoved: claim.trafficMoved,
        records: claim.records,
        lockTaken: true,
        targetSticky: pairTargetSticky(found)
    };
    const save = () => ctx.saveProgress(structuredClone(progress));
    save();
    let unresolved = false;
    let keepPreview = false;
    const pair = {
        lock,
        ctx: { ...ctx, clock, signal },
        guard: (what, change) => lock.guard(what, change),
        confirmHeld: () => lock.confirm(),
        commandsSent: (commandIds) => {
            progress.commandIds = [...commandIds];
            save();
        },
        trafficMoved: (moved, weights) => {
            progress.trafficMoved = moved;
            if (weights) {
                progress.expected = Object.fromEntries(Object.keys(weights.after).map((arn) => [arn, [weights.before[arn], weights.after[arn]].filter(Boolean)]));
            }
            save();
        },
        recordsIfCut: (records) => {
            progress.records = records;
            save();
        },
        restoreIfCut: (restore) => {
            progress.restore = restore;
            save();
        },
        processesSuspended: (group, processes) => {
            progress.suspended = processes.length > 0 ? { group, processes: [...processes] } : undefined;
            save();
        },
        previewOpened: (ruleArns) => {
            progress.previewRuleArns = [...ruleArns];
            save();
        },
        trafficSettled: () => {
            // Nothing to put back or to record failed from here on: the new fleet is live.
            Object.assign(progress, { trafficMoved: false, settled: true, records: undefined });
            save();
        },
        keepPreviewOpen: () => {
            keepPreview = true;
        },
        get hasTrafficMoved() {
            return progress.trafficMoved;
        },
        get hasSentCommands() {
            return progress.commandIds.length > 0;
        },
        leaveToPostStep: () => {
            unresolved = true;
        }
    };
    try {
        return await work(pair);
    }
    finally {
        // The preview only answers requests that ask for it, but it must not outlive the run that
        // shows the new fleet: every ending closes it, a paused canary's excepted. A run that lost the
        // pair leaves it to the run that holds it now.
        if (claim.preview && !keepPreview && !lock.lost) {
            await pair
                .guard('Closing the preview', () => claim.preview.close(run.report.warnings))
                .catch((e) => ctx.log.warning(`Could not close the preview: ${e.message}`));
            progress.previewRuleArns = claim.preview.ruleArns.length ? claim.preview.ruleArns : undefined;
        }
        if (!unresolved && !lock.lost) {
            await lock.release().catch((e) => ctx.log.warning(`Could not release the deploy lock: ${e.message}`));
        }
        progress.finished = !unresolved || lock.lost;
        save();
    }
}
/** What the post step needs while the run is only taking the lock: the lock's name, nothing to undo. */
function progressBeforeTheLock(run, found, claim) {
    const { config, ctx } = run;
    return {
        region: config.region,
        runId: ctx.run.id,
        operation: claim.operation,
        pair: [...found.traffic.pair],
        listenerArns: config.listenerArns,
        ruleArns: config.ruleArns,
        trafficMoved: false,
        commandIds: [],
        lockName: lockParameterName(config.parameterPrefix, found.traffic.pair),
        lockTaken: false,
        autoRollback: config.autoRollback,
        finished: false
    };
}
/**
 * The steps failed: the new fleet is recorded failed, and the run ends rolled back when the
 * starting weights were restored, or failed (loudly, with the lock left to the post step) when not.
 */
async function endAfterFailedSteps(run, pair, found, fleets, outcome, what) {
    const { newFleet, stableFleet, records } = fleets;
    if (!outcome.restored && run.config.autoRollback)
        pair.leaveToPostStep();
    records[newFleet] = { ...records[newFleet], role: 'failed' };
    records[stableFleet] = { ...records[stableFleet], role: 'live' };
    await recordAfterTraffic(pair.ctx, pair.guard, run.report.warnings, newFleet, records[newFleet]).catch(ignoreLostLock(run));
    const next = outcome.restored
        ? `all traffic is back on ${(0,config_arn/* targetGroupName */.IT)(stableFleet)}`
        : 'traffic was NOT restored: run rollback';
    const how = outcome.restored ? 'rolled back' : 'failed';
    return run.end(found, { routes: outcome.routes, records }, outcome.restored ? 'rolled-back' : 'failed', `${what} ${how}: ${outcome.message}; ${next}`);
}
/**
 * Someone else acted during the steps, and their traffic stands. Another run that took the lock
 * over writes the records too; after a person's change this run, still holding the lock, records
 * where traffic now is, so that the next run (a rollback above all) is not misled.
 */
async function endAfterInterruption(run, pair, found, fleets, outcome, what) {
    let records = fleets.records;
    if (outcome.by === 'change') {
        const truthful = recordsForTraffic(outcome.routes, found.traffic.pair, fleets);
        await recordFleetsAfterTraffic(pair.ctx, pair.guard, run.report.warnings, found.traffic.pair.map((arn) => [arn, truthful[arn]])).catch(ignoreLostLock(run));
        records = truthful;
    }
    const after = outcome.by === 'lock' ? 'the run that holds the pair now decides' : 'run status, then promote or rollback';
    return run.end(found, { routes: outcome.routes, records }, 'failed', `${what} stopped: ${outcome.message}; ${after}`);
}
/**
 * The new fleet took all traffic: it is live, the old one previous, kept for a rollback. `after`
 * runs once that is recorded (contract-commands), and may end the run otherwise.
 */
async function endWithNewFleetLive(run, pair, found, fleets, routes, headline, after) {
    const { newFleet, stableFleet, records } = fleets;
    records[newFleet] = { ...records[newFleet], role: 'live' };
    records[stableFleet] = { ...records[stableFleet], role: 'previous' };
    const warnings = run.report.warnings;
    await recordFleetsAfterTraffic(pair.ctx, pair.guard, warnings, [
        [newFleet, records[newFleet]],
        [stableFleet, records[stableFleet]]
    ]).catch(ignoreLostLock(run));
    Object.assign(run.report.outputs, { live: newFleet, idle: stableFleet, previous: stableFleet, deployed: newFleet });
    const ending = (await after?.()) ?? { result: 'succeeded', headline };
    return run.end(found, { routes, records }, ending.result, ending.headline);
}
/** A record write refused because another run took the pair meanwhile: said, not thrown. */
function ignoreLostLock(run) {
    return (error) => {
        if (!(error instanceof errors/* LockLostError */.yx))
            throw error;
        run.report.warnings.push(`${error.message}; this run wrote no records after that`);
        run.ctx.log.warning(error.message);
    };
}
/**
 * Runs an operation, and once more (twice at most) when traffic moved between its first look and
 * its lock: what it decided was decided on weights that no longer hold.
 */
async function planningAgainOnChange(ctx, operation) {
    for (let attempt = 1;; attempt++) {
        try {
            return await operation(attempt === 1 ? ctx : { ...ctx, routesAtStart: undefined });
        }
        catch (error) {
            if (!(error instanceof PlanAgainError) || attempt >= 3)
                throw error;
            ctx.log.warning(`${error.message}: planning again from what AWS shows now`);
        }
    }
}

;// CONCATENATED MODULE: ./src/aws/auto-scaling.ts
// Thin calls to EC2 Auto Scaling, batched at the API's limits. What they mean for a deploy is
// decided in src/plan/auto-scaling.ts.


/** DescribeAutoScalingInstances takes at most 50 instance ids and returns at most 50 rows. */
const INSTANCES_PER_CALL = 50;
/** DescribeAutoScalingGroups returns at most 100 groups a page; names are sent in batches of that size. */
const GROUPS_PER_CALL = 100;
function toScalingGroup(g) {
    const sources = (g.TrafficSources ?? [])
        .filter((s) => (s.Type ?? 'elbv2') === 'elbv2' && s.Identifier)
        .map((s) => s.Identifier);
    return {
        name: g.AutoScalingGroupName ?? '',
        arn: g.AutoScalingGroupARN ?? '',
        minSize: g.MinSize ?? 0,
        maxSize: g.MaxSize ?? 0,
        desiredCapacity: g.DesiredCapacity ?? 0,
        targetGroupArns: [...new Set([...(g.TargetGroupARNs ?? []), ...sources])],
        instances: (g.Instances ?? []).map((i) => ({
            id: i.InstanceId ?? '',
            lifecycleState: i.LifecycleState ?? '',
            // DescribeAutoScalingGroups says Healthy, DescribeAutoScalingInstances HEALTHY.
            healthy: (i.HealthStatus ?? '').toLowerCase() === 'healthy'
        })),
        suspendedProcesses: (g.SuspendedProcesses ?? []).map((p) => p.ProcessName ?? '').filter(Boolean)
    };
}
/** Instance id -> the group it belongs to, for those of `instanceIds` that belong to one. */
async function groupNamesOfInstances(client, instanceIds) {
    const out = new Map();
    const batches = (0,aws_batches/* chunks */.V)([...new Set(instanceIds)], INSTANCES_PER_CALL);
    const results = await Promise.all(batches.map((ids) => client.send(new dist_cjs/* DescribeAutoScalingInstancesCommand */.r$r({ InstanceIds: ids, MaxRecords: INSTANCES_PER_CALL }))));
    for (const result of results) {
        for (const i of result.AutoScalingInstances ?? [])
            if (i.InstanceId && i.AutoScalingGroupName)
                out.set(i.InstanceId, i.AutoScalingGroupName);
    }
    return out;
}
/** The named groups (names that match no group are left out, as AWS does). */
async function describeGroups(client, names) {
    const unique = [...new Set(names)];
    if (unique.length === 0)
        return [];
    const pages = await Promise.all((0,aws_batches/* chunks */.V)(unique, GROUPS_PER_CALL).map((batch) => allPages(client, batch)));
    return pages.flat();
}
/** Every group of the region, for a fleet that has no instance to look its group up by. */
function describeAllGroups(client) {
    return allPages(client, undefined);
}
async function allPages(client, names) {
    const out = [];
    let token;
    do {
        const page = await client.send(new dist_cjs/* DescribeAutoScalingGroupsCommand */.NkQ({
            AutoScalingGroupNames: names,
            MaxRecords: GROUPS_PER_CALL,
            NextToken: token
        }));
        out.push(...(page.AutoScalingGroups ?? []).map(toScalingGroup));
        token = page.NextToken;
    } while (token);
    return out;
}
async function setDesiredCapacity(client, groupName, capacity) {
    await client.send(new dist_cjs/* SetDesiredCapacityCommand */.iu7({ AutoScalingGroupName: groupName, DesiredCapacity: capacity }));
}
/** Min size and desired capacity together, for a change the group's current minimum would refuse. */
async function setGroupSize(client, groupName, size) {
    await client.send(new dist_cjs/* UpdateAutoScalingGroupCommand */.Idg({
        AutoScalingGroupName: groupName,
        MinSize: size.minSize,
        DesiredCapacity: size.desiredCapacity
    }));
}
async function suspendProcesses(client, groupName, processes) {
    await client.send(new dist_cjs/* SuspendProcessesCommand */.JQO({ AutoScalingGroupName: groupName, ScalingProcesses: namedProcesses(processes) }));
}
async function resumeProcesses(client, groupName, processes) {
    await client.send(new dist_cjs/* ResumeProcessesCommand */.iAb({ AutoScalingGroupName: groupName, ScalingProcesses: namedProcesses(processes) }));
}
/**
 * Both calls treat an empty list as *every* process: resuming with none named would resume what
 * the user had suspended on purpose. Never send one.
 */
function namedProcesses(processes) {
    if (processes.length === 0)
        throw new Error('no scaling process named: Auto Scaling would apply the call to every process');
    return [...processes];
}

;// CONCATENATED MODULE: ./src/plan/auto-scaling.ts
/**
 * Suspended on the new fleet's group from the commands until traffic has moved: a launch would
 * add an instance that never got the commands, a termination or replacement would remove one that
 * is being checked (or mask a version that fails its checks), a rebalance does both.
 */
const HOLD_STILL_PROCESSES = ['Launch', 'Terminate', 'ReplaceUnhealthy', 'AZRebalance'];
function fleetGroups(targetGroupArn, registeredIds, groups) {
    const attached = groups
        .filter((g) => g.targetGroupArns.includes(targetGroupArn))
        .filter((g, i, all) => all.findIndex((o) => o.name === g.name) === i)
        .sort((a, b) => a.name.localeCompare(b.name));
    const held = new Set(attached.flatMap((g) => g.instances.map((i) => i.id)));
    return { targetGroupArn, groups: attached, plainInstanceIds: registeredIds.filter((id) => !held.has(id)) };
}
/** Group names to describe: those the fleet's registered instances belong to. */
function groupNamesToDescribe(groupOfInstance) {
    return [...new Set(groupOfInstance.values())].sort();
}
/**
 * A fleet with no registered instance has no instance to look its group up by (a cold or retired
 * fleet): only a listing of the region's groups, matched on their target groups, finds it.
 */
function needsGroupListing(registeredCounts) {
    return registeredCounts.some((n) => n === 0);
}
function isAutoScalingFleet(fleet) {
    return fleet.groups.length > 0;
}
/** How many instances the fleet is meant to run: its groups' desired capacity plus its plain instances. */
function fleetCapacity(fleet) {
    return fleet.groups.reduce((sum, g) => sum + g.desiredCapacity, 0) + fleet.plainInstanceIds.length;
}
/**
 * A cold idle fleet (smaller than the live one) is scaled to the live fleet's capacity before the
 * deploy: flipping all traffic onto a smaller fleet would overload it. Only a fleet one group
 * backs is scaled (with several, which one should grow is the user's call), and never past the
 * group's MaxSize (changing it would overrule the team's own limit).
 */
function planScaleUp(idle, live) {
    const liveCapacity = fleetCapacity(live);
    const idleCapacity = fleetCapacity(idle);
    if (idle.groups.length === 0 || idleCapacity >= liveCapacity)
        return { kind: 'none' };
    const names = idle.groups.map((g) => g.name).join(', ');
    if (idle.groups.length > 1) {
        return {
            kind: 'refuse',
            message: `The idle fleet is backed by ${idle.groups.length} Auto Scaling groups (${names}) and is meant to run ${idleCapacity} instances, fewer than the live fleet's ${liveCapacity}; scale them to ${liveCapacity} in all yourself, then deploy again`
        };
    }
    const group = idle.groups[0];
    const to = liveCapacity - idle.plainInstanceIds.length;
    if (to > group.maxSize) {
        return {
            kind: 'refuse',
            message: `Auto Scaling group ${group.name} can run at most ${group.maxSize} instances (MaxSize) but the live fleet runs ${liveCapacity}; raise its MaxSize to at least ${to}, then deploy again`
        };
    }
    return { kind: 'scale', group: group.name, from: group.desiredCapacity, to };
}
/** What to suspend: the hold-still processes the group does not have suspended already. */
function processesToSuspend(group) {
    return HOLD_STILL_PROCESSES.filter((p) => !group.suspendedProcesses.includes(p));
}
/**
 * What to resume: exactly what this action suspended and is still suspended, never what the
 * user had suspended before (which `processesToSuspend` left out, so it is not in the list).
 */
function processesToResume(suspendedByAction, currentlySuspended) {
    return [...new Set(suspendedByAction)].filter((p) => currentlySuspended.includes(p));
}
const isActive = (state) => state.startsWith('Pending') || state === 'InService';
/**
 * A group is ready when exactly its desired capacity is InService (none still Pending), every one
 * of them registered in the fleet's target group (and healthy there, if asked) and, if asked,
 * managed by SSM.
 */
function readiness(group, targetStates, managed, needs) {
    const active = group.instances.filter((i) => isActive(i.lifecycleState));
    const inService = active.filter((i) => i.lifecycleState === 'InService').map((i) => i.id);
    const registered = inService.filter((id) => {
        const state = targetStates.get(id);
        return state !== undefined && state !== 'draining' && state !== 'unused';
    });
    const healthy = inService.filter((id) => targetStates.get(id) === 'healthy');
    const ssm = inService.filter((id) => managed.has(id));
    const missing = [];
    if (inService.length < group.desiredCapacity || active.length !== inService.length) {
        missing.push(`${inService.length} of ${group.desiredCapacity} instances InService`);
    }
    const notRegistered = inService.filter((id) => !registered.includes(id));
    if (notRegistered.length > 0)
        missing.push(`not registered in the target group: ${shortList(notRegistered)}`);
    if (needs.healthy) {
        const notHealthy = inService.filter((id) => !healthy.includes(id));
        if (notHealthy.length > 0)
            missing.push(`not healthy: ${shortList(notHealthy.map((id) => `${id} ${targetStates.get(id) ?? 'unregistered'}`))}`);
    }
    if (needs.managedBySsm) {
        const notManaged = inService.filter((id) => !managed.has(id));
        if (notManaged.length > 0)
            missing.push(`not managed by SSM yet: ${shortList(notManaged)}`);
    }
    const parts = [`${inService.length}/${group.desiredCapacity} InService`, `${registered.length} registered`];
    if (needs.healthy)
        parts.push(`${healthy.length} healthy`);
    if (needs.managedBySsm)
        parts.push(`${ssm.length} managed by SSM`);
    return {
        ready: missing.length === 0 && inService.length === group.desiredCapacity,
        instanceIds: inService,
        summary: `${group.name}: ${parts.join(', ')}`,
        missing
    };
}
/**
 * Retire scales the previous fleet's one group to zero (its MinSize too when it is above zero, or
 * Auto Scaling would refuse). A plain fleet, or one with instances no group holds, is refused:
 * the action would leave part of it running while saying it was retired.
 */
function planRetire(previous, name) {
    if (previous.groups.length === 0) {
        return {
            kind: 'refuse',
            message: `Fleet ${name} is not an Auto Scaling group; retire scales a group to zero (stop plain instances yourself)`
        };
    }
    if (previous.groups.length > 1) {
        const names = previous.groups.map((g) => g.name).join(', ');
        return {
            kind: 'refuse',
            message: `Fleet ${name} is backed by ${previous.groups.length} Auto Scaling groups (${names}); retire handles a fleet of one group`
        };
    }
    if (previous.plainInstanceIds.length > 0) {
        return {
            kind: 'refuse',
            message: `Fleet ${name} has instances its Auto Scaling group does not hold (${shortList(previous.plainInstanceIds)}); deregister them first, then retire`
        };
    }
    const group = previous.groups[0];
    if (group.desiredCapacity === 0 && group.instances.every((i) => !isActive(i.lifecycleState)))
        return { kind: 'already', group: group.name };
    return {
        kind: 'retire',
        group: group.name,
        before: { minSize: group.minSize, desiredCapacity: group.desiredCapacity },
        after: { minSize: 0, desiredCapacity: 0 }
    };
}
function planComeBack(retired, liveCapacity, recorded) {
    if (retired.groups.length !== 1)
        return { kind: 'none' };
    const group = retired.groups[0];
    const to = Math.max(liveCapacity, recorded?.minSize ?? 0);
    if (group.desiredCapacity >= to)
        return { kind: 'none' };
    if (to > group.maxSize) {
        return {
            kind: 'refuse',
            message: `Auto Scaling group ${group.name} can run at most ${group.maxSize} instances (MaxSize) but the live fleet runs ${liveCapacity}; raise its MaxSize, then roll back again`
        };
    }
    return {
        kind: 'scale',
        group: group.name,
        from: group.desiredCapacity,
        to: { minSize: Math.min(recorded?.minSize ?? group.minSize, to), desiredCapacity: to }
    };
}
function shortList(items) {
    const shown = items.slice(0, 5).join(', ');
    return items.length > 5 ? `${shown} and ${items.length - 5} more` : shown;
}

;// CONCATENATED MODULE: ./src/fleet/auto-scaling.ts






/**
 * The groups behind each fleet. Instances are looked up by id (50 a call); a fleet with no
 * registered instance (cold, or retired) is found by listing the region's groups and matching
 * their target groups, since it has no instance to look up.
 */
async function detectFleetGroups(client, fleets) {
    let groups;
    if (needsGroupListing(fleets.map((f) => f.registeredIds.length))) {
        groups = await describeAllGroups(client);
    }
    else {
        const groupOf = await groupNamesOfInstances(client, fleets.flatMap((f) => f.registeredIds));
        groups = await describeGroups(client, groupNamesToDescribe(groupOf));
    }
    return fleets.map((f) => fleetGroups(f.targetGroupArn, f.registeredIds, groups));
}
/**
 * Detection that a role without the Auto Scaling read permissions does not fail: its fleets are
 * treated as plain instances, as before this action knew about groups, and the log says so.
 */
async function detectOrAssumePlain(client, fleets, log) {
    try {
        return await detectFleetGroups(client, fleets);
    }
    catch (error) {
        if (!isAccessDenied(error))
            throw error;
        log.warning(`Auto Scaling groups were not looked up (${error.name}: grant autoscaling:DescribeAutoScalingInstances and autoscaling:DescribeAutoScalingGroups); the fleets are treated as plain instances`);
        return fleets.map((f) => fleetGroups(f.targetGroupArn, f.registeredIds, []));
    }
}
function isAccessDenied(error) {
    const text = `${error?.name ?? ''} ${error?.message ?? ''}`;
    return /AccessDenied|UnauthorizedOperation|not authorized/i.test(text);
}
/** The load balancer's and SSM's view of the instances, read through the action's clients. */
function instanceViews(clients) {
    return {
        targetStates: async (targetGroupArn) => new Map((await (0,elbv2/* targetHealth */.kG)(clients.elb, targetGroupArn)).map((t) => [t.id, t.state])),
        managedBySsm: async (instanceIds) => {
            const pages = await Promise.all((0,aws_batches/* chunks */.V)(instanceIds, IDS_PER_DESCRIBE).map((ids) => describeInstances(clients.ssm, ids)));
            return new Set(pages
                .flat()
                .filter((i) => i.PingStatus === 'Online')
                .map((i) => i.InstanceId ?? ''));
        }
    };
}
/**
 * Waits until the group has its desired capacity InService, registered (and healthy or managed by
 * SSM, as asked). A launch takes minutes on AWS, so the poll is slow by default; the timeout says
 * what was still missing, which is what the user needs to tell a slow boot from a broken one.
 */
async function waitUntilReady(client, options) {
    const { clock, log, groupName } = options;
    const started = clock.now();
    const pollMs = options.pollMs ?? Math.min(5000, Math.max(250, Math.round(options.timeoutMs / 100)));
    let lastLine = '';
    for (;;) {
        const [group] = await describeGroups(client, [groupName]);
        if (!group)
            throw new errors/* DeployError */.sH(`Auto Scaling group ${groupName} no longer exists; check who deleted it, then deploy again`);
        const inService = group.instances.filter((i) => i.lifecycleState === 'InService').map((i) => i.id);
        const [states, managed] = await Promise.all([
            options.views.targetStates(options.targetGroupArn),
            options.needs.managedBySsm && inService.length > 0
                ? options.views.managedBySsm(inService)
                : Promise.resolve(new Set())
        ]);
        const r = readiness(group, states, managed, options.needs);
        if (r.summary !== lastLine)
            log.info(r.summary);
        lastLine = r.summary;
        if (r.ready)
            return r;
        if (clock.now() - started >= options.timeoutMs) {
            throw new errors/* DeployError */.sH(`Auto Scaling group ${groupName} was not ready after ${options.timeoutInput} (${Math.round(options.timeoutMs / 1000)}s): ${r.missing.join('; ')}; raise ${options.timeoutInput} if instances take longer to boot, or see the group's activity history`);
        }
        await clock.sleep(pollMs, options.signal);
    }
}
/**
 * Suspends the hold-still processes the group does not already have suspended, and returns
 * exactly those, so that only they are resumed later.
 */
async function holdStill(client, group, log) {
    const processes = processesToSuspend(group);
    const kept = group.suspendedProcesses.length > 0
        ? ` (already suspended by someone else, left alone: ${group.suspendedProcesses.join(', ')})`
        : '';
    if (processes.length === 0) {
        log.info(`${group.name}: ${kept ? `nothing to suspend${kept}` : 'nothing to suspend'}`);
        return [];
    }
    await suspendProcesses(client, group.name, processes);
    log.info(`${group.name}: suspended ${processes.join(', ')} while the fleet is checked${kept}`);
    return processes;
}
/** Resumes what `holdStill` suspended and is still suspended; nothing else. */
async function release(client, groupName, suspendedByAction, log) {
    if (suspendedByAction.length === 0)
        return;
    const [group] = await describeGroups(client, [groupName]);
    if (!group)
        return;
    const processes = processesToResume(suspendedByAction, group.suspendedProcesses);
    if (processes.length === 0)
        return;
    await resumeProcesses(client, groupName, processes);
    log.info(`${groupName}: resumed ${processes.join(', ')}`);
}
/** The groups behind a fleet for the report; undefined for a plain fleet, so its report is as before. */
function groupsReport(fleet, retired) {
    if (fleet.groups.length === 0)
        return undefined;
    return {
        groups: fleet.groups.map((g) => ({
            name: g.name,
            desired: g.desiredCapacity,
            min: g.minSize,
            max: g.maxSize,
            inService: g.instances.filter((i) => i.lifecycleState === 'InService').length,
            suspended: g.suspendedProcesses
        })),
        ...(retired ? { retired: { at: retired.retiredAt, by: retired.by, desiredCapacity: retired.desiredCapacity } } : {})
    };
}

;// CONCATENATED MODULE: ./src/records/fleet-parameters.ts
// What Parameter Store records for each fleet, under the `parameter-prefix` input:
//
//   <prefix>/fleet/<target group name>/version   the version the fleet's instances run; an instance
//                                                its Auto Scaling group launches later reads it in
//                                                its user data and installs that version
//   <prefix>/fleet/<target group name>/retired   set by `retire`: the size to give the group back
//                                                (JSON), removed when the fleet is brought back
//
// Target group names are unique per account and region, and are what people see in the console,
// so the path is readable and stable across deploys (the ARN's id is not needed to be unique).


/** GetParameters takes at most 10 names a call. */
const PARAMETERS_PER_CALL = 10;
/** The target group's name from its ARN (`...:targetgroup/<name>/<id>`). */
function targetGroupNameOf(targetGroupArn) {
    const name = /:targetgroup\/([^/]+)\/[^/]+$/.exec(targetGroupArn)?.[1];
    if (!name)
        throw new Error(`not a target group ARN: ${targetGroupArn}`);
    return name;
}
function fleetParameterPath(prefix, targetGroupArn) {
    return `${prefix.replace(/\/+$/, '')}/fleet/${targetGroupNameOf(targetGroupArn)}`;
}
function versionParameterName(prefix, targetGroupArn) {
    return `${fleetParameterPath(prefix, targetGroupArn)}/version`;
}
function retiredParameterName(prefix, targetGroupArn) {
    return `${fleetParameterPath(prefix, targetGroupArn)}/retired`;
}
function encodeRetired(record) {
    return JSON.stringify({
        group: record.group,
        minSize: record.minSize,
        desiredCapacity: record.desiredCapacity,
        retiredAt: record.retiredAt,
        by: record.by
    });
}
/** A record someone edited by hand into something else reads as absent, not as a crash. */
function decodeRetired(value) {
    if (!value)
        return undefined;
    try {
        const o = JSON.parse(value);
        const count = (n) => typeof n === 'number' && Number.isInteger(n) && n >= 0;
        if (typeof o.group !== 'string' || !count(o.minSize) || !count(o.desiredCapacity))
            return undefined;
        return {
            group: o.group,
            minSize: o.minSize,
            desiredCapacity: o.desiredCapacity,
            retiredAt: String(o.retiredAt ?? ''),
            by: String(o.by ?? '')
        };
    }
    catch {
        return undefined;
    }
}
/** Both parameters of each fleet, in calls of at most 10 names. Names that do not exist are simply absent. */
async function readFleetParameters(ssm, prefix, targetGroupArns) {
    const wanted = targetGroupArns.flatMap((arn) => [
        versionParameterName(prefix, arn),
        retiredParameterName(prefix, arn)
    ]);
    const values = new Map();
    const results = await Promise.all((0,aws_batches/* chunks */.V)(wanted, PARAMETERS_PER_CALL).map((Names) => ssm.send(new client_ssm_dist_cjs/* GetParametersCommand */.AFe({ Names }))));
    for (const r of results)
        for (const p of r.Parameters ?? [])
            if (p.Name && p.Value !== undefined)
                values.set(p.Name, p.Value);
    return new Map(targetGroupArns.map((arn) => [
        arn,
        {
            version: values.get(versionParameterName(prefix, arn)),
            retired: decodeRetired(values.get(retiredParameterName(prefix, arn)))
        }
    ]));
}
/** Records the version the fleet now runs, for the instances its group launches from now on. */
async function writeVersionParameter(ssm, prefix, targetGroupArn, version) {
    const name = versionParameterName(prefix, targetGroupArn);
    await ssm.send(new client_ssm_dist_cjs/* PutParameterCommand */.ihh({
        Name: name,
        Value: version,
        Type: 'String',
        Overwrite: true,
        Description: `Version the instances of target group ${targetGroupNameOf(targetGroupArn)} run; new instances install it at boot`
    }));
    return name;
}
async function writeRetired(ssm, prefix, targetGroupArn, record) {
    await ssm.send(new client_ssm_dist_cjs/* PutParameterCommand */.ihh({
        Name: retiredParameterName(prefix, targetGroupArn),
        Value: encodeRetired(record),
        Type: 'String',
        Overwrite: true
    }));
}
/** Forgets that a fleet was retired (it is back); absent already is fine. */
async function clearRetired(ssm, prefix, targetGroupArn) {
    try {
        await ssm.send(new client_ssm_dist_cjs/* DeleteParameterCommand */.Obs({ Name: retiredParameterName(prefix, targetGroupArn) }));
    }
    catch (e) {
        if (!(e instanceof client_ssm_dist_cjs/* ParameterNotFound */.TU5))
            throw e;
    }
}

;// CONCATENATED MODULE: ./src/fleet/new-fleet-group.ts
// The new fleet's Auto Scaling group during a deploy: scaled to the live fleet's size when it is
// cold, held still from the commands until the deploy ends, its version recorded for instances it
// launches later, and let go again. A fleet of plain instances has none of this and deploys as before.








/**
 * The group behind the idle fleet, or undefined when it is a plain fleet (or several groups back it:
 * which one to scale or hold is the team's call, so it deploys to the registered instances as
 * before). A cold fleet that cannot be scaled safely is refused here, before anything changes.
 */
async function findNewFleetGroup(ctx, config, newFleet, stableFleet) {
    const [idle] = await detectOrAssumePlain(ctx.clients.autoScaling, [newFleet], ctx.log);
    if (idle.groups.length === 0)
        return undefined;
    const name = (0,config_arn/* targetGroupName */.IT)(newFleet.targetGroupArn);
    if (idle.groups.length > 1) {
        ctx.log.warning(`${name} is backed by ${idle.groups.length} Auto Scaling groups (${idle.groups.map((g) => g.name).join(', ')}); the action scales and holds still a fleet of one group only, so it deploys to the registered instances as for plain instances`);
        return undefined;
    }
    const [live] = await detectOrAssumePlain(ctx.clients.autoScaling, [stableFleet], ctx.log);
    const scale = planScaleUp(idle, live);
    if (scale.kind === 'refuse')
        throw new errors/* DeployError */.sH(`${scale.message}; nothing was changed`);
    return new NewFleetGroup(ctx, config, idle, scale, fleetCapacity(live));
}
class NewFleetGroup {
    ctx;
    config;
    fleet;
    scale;
    liveCapacity;
    report;
    suspended = [];
    guard = unguarded;
    constructor(ctx, config, fleet, scale, liveCapacity) {
        this.ctx = ctx;
        this.config = config;
        this.fleet = fleet;
        this.scale = scale;
        this.liveCapacity = liveCapacity;
        const group = fleet.groups[0];
        this.report = { group: group.name, suspended: [], leftAlone: [...group.suspendedProcesses] };
    }
    get group() {
        return this.fleet.groups[0];
    }
    /**
     * From here on the group works under the pair's lock: its waits renew the lease (and end should
     * the lock be lost), and each change is made only while the lock is this run's.
     */
    heldWith(ctx, guard) {
        this.ctx = ctx;
        this.guard = guard;
    }
    /** What the deploy will do to the group, for the plan and the dry run. */
    planLines() {
        const lines = [];
        if (this.scale.kind === 'scale') {
            lines.push(`scale ${this.group.name} from ${this.scale.from} to ${this.scale.to} instances (the live fleet runs ${this.liveCapacity}) and wait until they are InService, healthy and managed by SSM`);
        }
        lines.push(`hold ${this.group.name} still (suspend Launch, Terminate, ReplaceUnhealthy, AZRebalance) from the commands until the deploy ends`);
        lines.push(`record the version in Parameter Store for the instances ${this.group.name} launches later`);
        return lines;
    }
    /**
     * Gets the fleet ready for the commands: a cold fleet scaled and waited for, then the group held
     * still, and the instances to send the commands to read once it is (an instance it launched
     * meanwhile would otherwise serve without them).
     */
    async prepare(budgetMs, onSuspended) {
        const { ctx, config } = this;
        const client = ctx.clients.autoScaling;
        const timeoutMs = Math.min(config.healthTimeoutMs, budgetMs);
        if (this.scale.kind === 'scale') {
            const { from, to } = this.scale;
            ctx.log.info(`Scaling ${this.group.name} from ${from} to ${to} instances, the live fleet's size`);
            await this.guard(`Scaling ${this.group.name}`, () => setDesiredCapacity(client, this.group.name, to));
            this.report.scaled = { from, to, why: "the live fleet's size" };
            const started = ctx.clock.now();
            await waitUntilReady(client, {
                groupName: this.group.name,
                targetGroupArn: this.fleet.targetGroupArn,
                // Healthy too: an instance's user data installs and starts the app as it boots, and
                // commands sent before it finished would race it (the last installer wins).
                needs: { managedBySsm: true, healthy: true },
                views: instanceViews(ctx.clients),
                clock: ctx.clock,
                log: ctx.log,
                signal: ctx.signal,
                timeoutMs,
                timeoutInput: 'health-timeout'
            });
            this.report.scaled.readyAfterMs = ctx.clock.now() - started;
            // A retired fleet taking a deploy is back in use.
            await this.guard('Clearing the retired record', () => clearRetired(ctx.clients.ssm, config.parameterPrefix, this.fleet.targetGroupArn));
        }
        const [current] = await describeGroups(client, [this.group.name]);
        if (!current)
            throw new errors/* DeployError */.sH(`Auto Scaling group ${this.group.name} no longer exists; nothing was sent`);
        this.suspended = await this.guard(`Holding ${this.group.name} still`, () => holdStill(client, current, ctx.log));
        this.report.suspended = [...this.suspended];
        this.report.leftAlone = current.suspendedProcesses;
        onSuspended(this.group.name, this.suspended);
        return this.settledInstances(timeoutMs);
    }
    /** Records the version the fleet now runs, for the instances the group launches from now on. */
    async recordVersion() {
        const { config } = this;
        this.report.versionParameter = await this.guard('Recording the version', () => writeVersionParameter(this.ctx.clients.ssm, config.parameterPrefix, this.fleet.targetGroupArn, config.version));
        this.ctx.log.info(`Recorded ${config.version} in Parameter Store (${this.report.versionParameter})`);
    }
    /**
     * Resumes exactly what this run suspended. A failure is said loudly and left in the post step's
     * state, which tries again: a group left without Launch would not replace a failed instance.
     */
    async letGo(onSuspended) {
        if (this.suspended.length === 0)
            return;
        try {
            await release(this.ctx.clients.autoScaling, this.group.name, this.suspended, this.ctx.log);
            this.report.resumed = true;
            this.suspended = [];
            onSuspended(this.group.name, []);
        }
        catch (error) {
            this.report.resumed = false;
            this.ctx.log.warning(`Could not resume ${this.suspended.join(', ')} on ${this.group.name} (${(0,errors/* messageOf */.bD)(error)}); the post step tries again, else resume them yourself`);
        }
    }
    /** Once no instance is still Pending, the fleet's registered instances (draining ones excepted). */
    async settledInstances(timeoutMs) {
        const { ctx } = this;
        const started = ctx.clock.now();
        for (;;) {
            const [group] = await describeGroups(ctx.clients.autoScaling, [this.group.name]);
            const pending = (group?.instances ?? []).filter((i) => i.lifecycleState.startsWith('Pending'));
            if (pending.length === 0)
                break;
            if (ctx.clock.now() - started >= timeoutMs) {
                throw new errors/* DeployError */.sH(`Instances of ${this.group.name} were still Pending after health-timeout: ${pending.map((i) => i.id).join(', ')}; nothing was sent: raise health-timeout or see the group's activity history`);
            }
            await ctx.clock.sleep(1000, ctx.signal);
        }
        const targets = await (0,elbv2/* targetHealth */.kG)(ctx.clients.elb, this.fleet.targetGroupArn);
        const ids = targets.filter((t) => t.state !== 'draining').map((t) => t.id);
        if (ids.length === 0) {
            throw new errors/* DeployError */.sH(`${(0,config_arn/* targetGroupName */.IT)(this.fleet.targetGroupArn)} (the idle fleet) has no registered instances even after its group ${this.group.name} was checked; nothing was sent`);
        }
        return ids;
    }
}

;// CONCATENATED MODULE: ./src/operations/deploy.ts























// Instances that join the idle fleet while it is deployed get the commands too, this many times.
const DEPLOY_ROUNDS = 3;
/**
 * `operation: deploy`: new code on the idle fleet, checked, then traffic moved to it in steps.
 * Nothing reaches the new fleet until its commands succeeded and its targets are healthy.
 */
function deploy(config, ctx) {
    return planningAgainOnChange(ctx, (attempt) => deployOnce(config, attempt));
}
async function deployOnce(config, ctx) {
    const run = new OperationRun(config, ctx);
    const checks = holdChecks(config, ctx, run.report);
    // The gates are read alongside the routes: a misspelt alarm name fails a dry run too.
    const [found, failingGate] = await Promise.all([
        discover(config, ctx.clients.elb, ctx.routesAtStart),
        firstFailingGate(checks)
    ]);
    const { newFleet, stableFleet } = chooseIdleFleet(found.traffic);
    refuseOverStagedCanary(found.traffic, found.fleets);
    // Settings that cannot work are refused before anything changes, the dry run included.
    refuseProblems(found);
    const shortHealthTimeout = healthTimeoutProblem(config.healthTimeoutMs, found.fleets[newFleet].cadence, newFleet);
    if (shortHealthTimeout)
        throw shortHealthTimeout;
    const pinning = routesPinningTo(found.routes, newFleet, (r) => pairWeights(r, found.traffic.pair));
    if (pinning.length > 0 && pairTargetSticky(found))
        throw cannotReleasePinned(newFleet);
    // A fleet that is an Auto Scaling group may be cold: it is scaled to the live fleet's size first.
    const group = await findNewFleetGroup(ctx, config, toDetect(found, newFleet), toDetect(found, stableFleet));
    const instanceIds = group?.scale.kind === 'scale' ? registeredIds(found, newFleet) : registeredInstances(found, newFleet);
    if (group)
        found.fleets[newFleet].autoScaling = groupsReport(group.fleet);
    const plan = planDeploy({
        config,
        pair: found.traffic.pair,
        newFleet,
        routes: found.traffic.routes,
        instanceIds,
        currentWeight: 0,
        endAtFull: false,
        checks: describeChecks(checks),
        prepare: group?.planLines()
    });
    plan.hooks = describeHooks(config, { ...plan, instanceId: chooseHookInstance(instanceIds) });
    run.report.plan = plan;
    Object.assign(run.report.outputs, { live: stableFleet, idle: newFleet, instanceIds });
    // Planned while nothing has changed: a listener with no room for it fails the deploy here.
    const preview = await planPreview(run, found, newFleet);
    logPlan(ctx, plan, config, preview?.report);
    run.warnAboutPlan(planWarnings(checks, config));
    if (config.dryRun) {
        const steps = `${plan.steps.length} step${plan.steps.length > 1 ? 's' : ''}`;
        const scale = group?.scale.kind === 'scale' ? `scale ${group.group.name} to ${group.scale.to} instances, ` : '';
        const size = group?.scale.kind === 'scale' ? '' : ` (${instanceIds.length} instances)`;
        return run.dryRun(found, `Dry run: would ${scale}deploy ${config.version} to ${(0,config_arn/* targetGroupName */.IT)(newFleet)}${size} and move traffic in ${steps}; nothing was changed`);
    }
    // An alarm already firing would fail the first hold anyway; stopping now spares the users the canary.
    if (failingGate) {
        run.report.failure = { what: failingGate.line, at: ctx.clock.now(), step: 0, weight: 0 };
        return run.end(found, { routes: found.routes }, 'failed', `${capitalise(failingGate.line)} before the deploy; nothing was changed: fix what it reports, then deploy again`);
    }
    // Read-only, so it runs while the lock is taken; its answer is awaited before anything is sent.
    // A group's instances are known only once it is held still: they are checked then.
    const instancesReady = group ? Promise.resolve() : checkInstancesReady(ctx.clients.ssm, instanceIds);
    instancesReady.catch(() => undefined);
    if (group)
        run.report.autoScaling = group.report;
    return withThePair(run, found, { operation: 'deploy', newFleet, stableFleet, restore: plan.restore, trafficMoved: false, preview }, async (pair) => {
        try {
            return await deployHeld(pair);
        }
        finally {
            // Whatever the ending, the lock lost included: the group gets back exactly the processes
            // this run took from it (nobody else knows it took them).
            await group?.letGo(pair.processesSuspended);
        }
    });
    async function deployHeld(pair) {
        const c = pair.ctx;
        const fleets = {
            newFleet,
            stableFleet,
            records: {
                [stableFleet]: { ...found.fleets[stableFleet].record, role: 'live' },
                [newFleet]: {
                    version: config.version,
                    role: 'deploying',
                    deployedAt: new Date(c.clock.now()).toISOString(),
                    deployedBy: c.run.url
                }
            }
        };
        const record = new DeployRecord(c, pair.guard, newFleet, found.fleets[newFleet].record, fleets.records[newFleet]);
        let deployed = instanceIds;
        try {
            if (group) {
                group.heldWith(c, pair.guard);
                const ready = await group.prepare(run.deadline - c.clock.now(), pair.processesSuspended);
                Object.assign(plan, { instanceIds: ready });
                run.report.outputs.instanceIds = deployed = ready;
                await checkInstancesReady(c.clients.ssm, ready);
            }
            await instancesReady;
            if (pinning.length > 0)
                await releasePinned(run, pair, pinning, newFleet);
            // Recorded before the commands go out: a rollback forced meanwhile must not pick this
            // fleet; a deploy that stops before sending anything puts the record back.
            pair.recordsIfCut({ [newFleet]: record.before });
            await record.markDeploying();
            pair.recordsIfCut({ [newFleet]: { ...record.current, role: 'failed' } });
            deployed = await deployToFleet(run, pair, found, newFleet, deployed);
            // The fleet has taken the version: instances its group launches from now on install it too.
            await group?.recordVersion();
            await runBeforeTrafficCommands(run, pair, newFleet, found.fleets[newFleet].instances);
            await gateBeforeTraffic(checks);
            await record.mark('canary');
            if (preview)
                await pair.guard('Opening the preview', () => preview.open(pair.previewOpened));
        }
        catch (error) {
            const lost = lockLoss(error, c.signal);
            if (lost)
                return endLostLockBeforeTraffic(run, found, lost);
            // Before traffic moved every failure ends the same way: nothing reached the new fleet.
            fleets.records[newFleet] = await record.endBeforeTraffic(pair.hasSentCommands);
            return endBeforeTraffic(run, found, fleets, error);
        }
        fleets.records[newFleet] = record.current;
        run.report.outputs.instanceIds = deployed;
        // Should the run die mid-canary, its post step restores and records the deploy failed; with
        // auto-rollback off it leaves traffic, and the canary stays recorded a canary.
        pair.recordsIfCut(config.autoRollback ? { [newFleet]: { ...record.current, role: 'failed' } } : {});
        const outcome = await runTrafficSteps(config, c, {
            routes: found.routes,
            pair: found.traffic.pair,
            newFleet,
            stableFleet,
            steps: plan.steps,
            checks,
            restore: plan.restore,
            instanceIds: deployed,
            deadline: run.deadline,
            firstStepNumber: 1,
            targetSticky: pairTargetSticky(found),
            guard: pair.guard,
            confirmHeld: pair.confirmHeld,
            onTrafficMoved: pair.trafficMoved
        }, run.report);
        const what = `Deploy of ${config.version}`;
        if (outcome.kind === 'interrupted')
            return endAfterInterruption(run, pair, found, fleets, outcome, what);
        if (outcome.kind === 'failed')
            return endAfterFailedSteps(run, pair, found, fleets, outcome, what);
        run.report.outputs.deployed = newFleet;
        if (plan.pauses) {
            await recordAfterTraffic(c, pair.guard, run.report.warnings, stableFleet, fleets.records[stableFleet]);
            // The preview stays for the testers and reviewers; the promote or rollback closes it.
            pair.keepPreviewOpen();
            const last = plan.steps.at(-1)?.weight ?? 0;
            const open = preview ? ', preview open' : '';
            return run.end(found, { routes: outcome.routes, records: fleets.records }, 'paused', `Canary of ${config.version} paused at ${last}% on ${(0,config_arn/* targetGroupName */.IT)(newFleet)}${open}; run promote to continue, or rollback`);
        }
        return endWithNewFleetLive(run, pair, found, fleets, outcome.routes, `Deployed ${config.version} to ${(0,config_arn/* targetGroupName */.IT)(newFleet)}; it now takes all traffic, ${(0,config_arn/* targetGroupName */.IT)(stableFleet)} keeps running for a rollback`, () => runContractCommands(run, pair, newFleet, fleets.records[newFleet], found.fleets[newFleet].instances, stableFleet));
    }
}
function toDetect(found, arn) {
    return { targetGroupArn: arn, registeredIds: registeredIds(found, arn) };
}
function registeredIds(found, arn) {
    return found.fleets[arn].instances.map((t) => t.id);
}
function registeredInstances(found, newFleet) {
    const instanceIds = found.fleets[newFleet].instances.map((t) => t.id);
    if (instanceIds.length === 0) {
        throw new errors/* DeployError */.sH(`Target group ${(0,config_arn/* targetGroupName */.IT)(newFleet)} (the idle fleet) has no registered instances; register the idle fleet's instances in it, then deploy`);
    }
    return instanceIds;
}
/**
 * The commands on the idle fleet, then every target healthy on the new code. An instance that
 * joins the fleet meanwhile (an Auto Scaling group, a person) gets the commands too and must be
 * healthy as well, before any traffic moves: it would otherwise serve whatever it was launched
 * with. Returns every instance that took the deploy.
 */
async function deployToFleet(run, pair, found, newFleet, instanceIds) {
    const { config } = run;
    const c = pair.ctx;
    const name = (0,config_arn/* targetGroupName */.IT)(newFleet);
    const sent = [];
    const reports = [];
    let deployed = [];
    let joining = instanceIds;
    for (let round = 1; joining.length > 0; round++) {
        if (round > DEPLOY_ROUNDS) {
            throw new errors/* DeployError */.sH(`Instances kept joining ${name} during the deploy (${joining.join(', ')}); no traffic was moved: stop what registers them (an Auto Scaling group's scaling), then deploy again`);
        }
        if (round > 1) {
            c.log.warning(`${joining.join(', ')} joined ${name} during the deploy: running the deploy commands on ${joining.length > 1 ? 'them' : 'it'} too before any traffic moves`);
            await checkInstancesReady(c.clients.ssm, joining);
        }
        const report = await c.log.group(`Commands on ${name} (${joining.length} instances)`, () => runDeployCommands(config, c, joining, {
            onSent: (ids) => pair.commandsSent([...sent, ...ids]),
            onReport: (commands) => reportCommands(run, [...reports, commands]),
            guard: pair.guard
        }));
        reports.push(report);
        sent.push(...report.commandIds);
        deployed = [...deployed, ...joining];
        found.fleets[newFleet].instances = await waitForNewFleetHealth(run, c, found, newFleet, deployed);
        const registered = (await (0,elbv2/* targetHealth */.kG)(c.clients.elb, newFleet)).filter((t) => t.state !== 'draining');
        joining = registered.map((t) => t.id).filter((id) => !deployed.includes(id));
    }
    return deployed;
}
/** Every command report of the deploy as one, for the summary and the outputs. */
function reportCommands(run, reports) {
    const [first] = reports;
    run.report.commands = {
        ...first,
        commandIds: reports.flatMap((r) => r.commandIds),
        total: reports.reduce((n, r) => n + r.total, 0),
        succeeded: reports.reduce((n, r) => n + r.succeeded, 0),
        failed: reports.reduce((n, r) => n + r.failed, 0),
        instances: reports.flatMap((r) => r.instances)
    };
    run.report.outputs.commandId = first.commandIds[0];
}
/** Every target of the new fleet healthy on the new code, within health-timeout and the deadline. */
async function waitForNewFleetHealth(run, ctx, found, newFleet, instanceIds) {
    const { config } = run;
    const untilDeadlineMs = run.deadline - ctx.clock.now();
    if (untilDeadlineMs <= 0) {
        throw new errors/* DeployError */.sH(`The operation's timeout (${Math.round(config.timeoutMs / 60_000)}m) was reached before the health check; no traffic was moved: raise timeout`);
    }
    return ctx.log.group(`Health of ${(0,config_arn/* targetGroupName */.IT)(newFleet)}: every target healthy on the new code`, () => waitHealthy(ctx.clients.elb, newFleet, {
        instanceIds,
        cadence: found.fleets[newFleet].cadence,
        timeoutMs: Math.min(config.healthTimeoutMs, untilDeadlineMs),
        clock: ctx.clock,
        log: ctx.log,
        signal: ctx.signal
    }));
}
/**
 * Group stickiness on while the idle fleet takes no traffic: a cookie still pins some clients to
 * it (on an ALB it outranks weight 0), and they would be served by the fleet whose code is about
 * to change. Turned off first, weights unchanged, and said.
 */
async function releasePinned(run, pair, pinning, newFleet) {
    const c = pair.ctx;
    await releasePinnedClients(c.clients.elb, pinning, pair.guard);
    const message = `Group stickiness was on while ${(0,config_arn/* targetGroupName */.IT)(newFleet)} took no traffic; turned it off before the deploy, so that clients a cookie pinned to ${(0,config_arn/* targetGroupName */.IT)(newFleet)} leave it before its code changes`;
    c.log.warning(message);
    run.report.warnings.push(message);
}
function cannotReleasePinned(newFleet) {
    return new errors/* DeployError */.sH(`Group stickiness is on while ${(0,config_arn/* targetGroupName */.IT)(newFleet)} takes no traffic, so clients a cookie pinned to it would be served by the fleet being deployed; it cannot be turned off while a group of the pair has target stickiness on (AWS requires group stickiness then): turn off target stickiness (stickiness.enabled) on both groups, then deploy; nothing was changed`);
}
/** The checks' gates once more, just before the first shift: the world may have changed meanwhile. */
async function gateBeforeTraffic(checks) {
    const failing = await firstFailingGate(checks);
    if (failing) {
        throw new errors/* DeployError */.sH(`${capitalise(failing.line)} before traffic moved; no traffic was moved: fix what it reports, then deploy again`);
    }
}
function lockLoss(error, signal) {
    if (error instanceof errors/* LockLostError */.yx)
        return error;
    return signal.aborted && signal.reason instanceof errors/* LockLostError */.yx ? signal.reason : undefined;
}
/** Another run took the pair before traffic moved: it decides now; this run changes nothing more. */
function endLostLockBeforeTraffic(run, found, error) {
    run.report.failure = { what: error.message, at: run.ctx.clock.now(), step: 0, weight: 0 };
    run.report.warnings.push(error.message);
    return run.end(found, { routes: found.routes }, 'failed', `Deploy of ${run.config.version} stopped before traffic moved: ${error.message}`);
}
function endBeforeTraffic(run, found, fleets, error) {
    const message = run.ctx.signal.aborted
        ? 'The run was cancelled before traffic moved; no traffic was moved'
        : failureMessage(error);
    run.report.failure ??= { what: message, at: run.ctx.clock.now(), step: 0, weight: 0 };
    return run.end(found, { routes: found.routes, records: fleets.records }, 'failed', message);
}
/** An error before traffic moved, in words that say what to do; AWS's own errors get a hint. */
function failureMessage(error) {
    if (error instanceof errors/* DeployError */.sH)
        return error.message;
    const name = error?.name ?? 'Error';
    const message = error?.message ?? String(error);
    const hint = /AccessDenied|Unauthorized|not authorized/i.test(`${name} ${message}`)
        ? 'grant the permission named (see the IAM policy in the README)'
        : /Throttl|Rate exceeded|TooManyRequests/i.test(`${name} ${message}`)
            ? 'AWS throttled the calls beyond the retries; run the deploy again'
            : 'run the deploy again, and report it if it repeats';
    return `${name}: ${message}; no traffic was moved: ${hint}`;
}
function logPlan(ctx, plan, config, preview) {
    const ids = plan.instanceIds;
    const fleet = ids.length > 0
        ? `${ids.length} instances: ${ids.slice(0, 10).join(', ')}${ids.length > 10 ? ', …' : ''}`
        : 'its instances once scaled';
    ctx.log.info(`Plan: deploy ${config.version} to ${(0,config_arn/* targetGroupName */.IT)(plan.newFleet)} (${fleet})`);
    for (const line of plan.prepare ?? [])
        ctx.log.info(`  first: ${line}`);
    plan.steps.forEach((step, i) => ctx.log.info(`  step ${i + 1}: ${step.weight}% of traffic on ${(0,config_arn/* targetGroupName */.IT)(plan.newFleet)}, held ${Math.round(step.holdMs / 1000)}s`));
    if (plan.pauses)
        ctx.log.info('  then pause for a promote');
    for (const hook of plan.hooks ?? [])
        ctx.log.info(`  ${hook}`);
    for (const rule of preview?.rules ?? []) {
        ctx.log.info(`  preview: rule at priority ${rule.priority} on ${(0,config_arn/* routeLabel */.qA)(rule.listenerArn)}, ${preview?.header}: ${preview?.value} to ${(0,config_arn/* targetGroupName */.IT)(plan.newFleet)} only${rule.curl ? `: ${rule.curl}` : ''}`);
    }
    ctx.log.info(`  on failure: restore ${Object.values(plan.restore).map(describeWeights).join('; ')}`);
    ctx.log.info(`  checks during each hold: ${plan.checks.join(', ')}`);
}
function capitalise(text) {
    return text.charAt(0).toUpperCase() + text.slice(1);
}

;// CONCATENATED MODULE: ./src/runtime/log.ts

const actionsLog = {
    info: (m) => lib_core/* info */.pq(m),
    debug: (m) => lib_core/* debug */.Yz(m),
    warning: (m) => lib_core/* warning */.$e(m),
    error: (m) => lib_core/* error */.z3(m),
    notice: (m) => lib_core/* notice */.lm(m),
    group: (title, phase) => lib_core/* group */.Os(title, phase)
};

;// CONCATENATED MODULE: ./src/report/outputs.ts

/** Sets every output the action declares, empty when a run did not get as far as knowing it. */
function setOutputs(report) {
    const o = report.outputs;
    lib_core/* setOutput */.uH('result', report.result);
    lib_core/* setOutput */.uH('live-target-group-arn', o.live ?? '');
    lib_core/* setOutput */.uH('idle-target-group-arn', o.idle ?? '');
    lib_core/* setOutput */.uH('previous-target-group-arn', o.previous ?? '');
    lib_core/* setOutput */.uH('deployed-target-group-arn', o.deployed ?? '');
    lib_core/* setOutput */.uH('command-id', o.commandId ?? '');
    lib_core/* setOutput */.uH('instance-ids', JSON.stringify(o.instanceIds ?? []));
    lib_core/* setOutput */.uH('weights', JSON.stringify(o.weights ?? {}));
}

;// CONCATENATED MODULE: ./src/runtime/progress.ts

const KEY = 'progress';
function saveProgress(progress) {
    lib_core/* saveState */.LZ(KEY, JSON.stringify(progress));
}
function loadProgress() {
    const text = core.getState(KEY);
    if (!text)
        return undefined;
    try {
        return JSON.parse(text);
    }
    catch {
        return undefined;
    }
}

// EXTERNAL MODULE: ./src/config/inputs.ts + 2 modules
var inputs = __webpack_require__(2931);
;// CONCATENATED MODULE: ./src/operations/promote.ts












/**
 * `operation: promote`: continues a paused canary through the steps above its weight to 100%.
 * Which fleet is new is read from the records on AWS, so an approved job needs nothing passed
 * from the job that deployed.
 */
function promote(config, ctx) {
    return planningAgainOnChange(ctx, (attempt) => promoteOnce(config, attempt));
}
async function promoteOnce(config, ctx) {
    const run = new OperationRun(config, ctx);
    const found = await discover(config, ctx.clients.elb, ctx.routesAtStart);
    // Settings that cannot work are refused before anything changes, the dry run included.
    refuseProblems(found);
    const { traffic, fleets } = found;
    if (!traffic.percent) {
        throw new errors/* DeployError */.sH(`The routes disagree (${traffic.routes.map((r) => describeWeights(r.weights)).join(' vs ')}); run rollback to put traffic back on the stable fleet`);
    }
    // A canary staged at 0% (canary-steps 0) is promoted like one at 10%.
    const staged = stagedCanary(traffic, fleets);
    if (!traffic.mixed && !staged) {
        Object.assign(run.report.outputs, { live: traffic.live, idle: traffic.idle });
        if (config.contractCommands.length > 0)
            return contractLater(run, found);
        return run.end(found, { routes: found.routes }, 'unchanged', `No canary in progress (${describeWeights(traffic.percent)}); nothing to promote`);
    }
    const newFleet = staged ?? traffic.pair.find((arn) => fleets[arn].record.role === 'canary');
    if (!newFleet) {
        throw new errors/* DeployError */.sH(`Traffic is split (${describeWeights(traffic.percent)}) but neither fleet is recorded as the canary; run rollback to put all traffic on one fleet`);
    }
    const stableFleet = traffic.pair.find((arn) => arn !== newFleet);
    const instanceIds = fleets[newFleet].instances.map((t) => t.id);
    const currentWeight = traffic.percent[newFleet];
    const checks = holdChecks(config, ctx, run.report);
    const plan = planDeploy({
        config,
        pair: traffic.pair,
        newFleet,
        routes: traffic.routes,
        instanceIds,
        currentWeight,
        endAtFull: true,
        checks: describeChecks(checks)
    });
    // Known only now: the holds above the paused weight. A deadline they overrun would roll back a
    // healthy canary halfway, so the promote is refused before it moves anything.
    const overrun = (0,inputs/* holdsOverrunTimeout */.xb)(plan.steps.length, config.stepWaitMs, config.timeoutMs);
    if (overrun)
        throw overrun;
    const stepsText = plan.steps.map((s) => `${s.weight}%`).join(', ');
    plan.hooks = describeHooks(config, {
        ...plan,
        instanceId: chooseHookInstance(instanceIds, fleets[newFleet].instances)
    });
    run.report.plan = plan;
    const preview = await findPreview(run, found);
    run.report.version = fleets[newFleet].record.version;
    Object.assign(run.report.outputs, { live: stableFleet, idle: newFleet, instanceIds });
    ctx.log.info(`Promoting ${(0,config_arn/* targetGroupName */.IT)(newFleet)} from ${currentWeight}%: steps ${stepsText}`);
    run.warnAboutPlan(planWarnings(checks, config));
    if (config.dryRun) {
        return run.dryRun(found, `Dry run: would promote ${(0,config_arn/* targetGroupName */.IT)(newFleet)} from ${currentWeight}% through ${stepsText}; nothing was changed`);
    }
    // A cancelled promote goes back to the paused canary the reviewers approved, not further back:
    // nothing failed, so the canary stays in place for another promote or a rollback. Should this
    // run die, its post step puts the canary back there too, and leaves it recorded a canary.
    const pausedWeights = Object.fromEntries(traffic.routes.map(({ route, weights }) => [route.arn, { ...weights }]));
    return withThePair(run, found, { operation: 'promote', newFleet, stableFleet, restore: pausedWeights, trafficMoved: true, records: {}, preview }, async (pair) => {
        const shifted = {
            newFleet,
            stableFleet,
            records: { [newFleet]: fleets[newFleet].record, [stableFleet]: fleets[stableFleet].record }
        };
        const outcome = await runTrafficSteps(config, pair.ctx, {
            routes: found.routes,
            pair: traffic.pair,
            newFleet,
            stableFleet,
            steps: plan.steps,
            checks,
            restore: plan.restore,
            cancelRestore: pausedWeights,
            instanceIds,
            deadline: run.deadline,
            firstStepNumber: config.trafficSteps.filter((w) => w <= currentWeight).length + 1,
            // Look at the canary where it stands before giving it more traffic.
            lookFirstAt: currentWeight,
            targetSticky: pairTargetSticky(found),
            guard: pair.guard,
            confirmHeld: pair.confirmHeld,
            onTrafficMoved: pair.trafficMoved,
            // A canary that failed a look is done for: a post step that finds the run killed while
            // it put traffic back must finish that restore, not return to the paused canary.
            onStepFailed: (restore) => {
                pair.restoreIfCut(restore);
                pair.recordsIfCut({ [newFleet]: { ...shifted.records[newFleet], role: 'failed' } });
            }
        }, run.report);
        const what = `Promote of ${(0,config_arn/* targetGroupName */.IT)(newFleet)}`;
        if (outcome.kind === 'interrupted')
            return endAfterInterruption(run, pair, found, shifted, outcome, what);
        if (outcome.kind === 'failed' && outcome.cancelled && outcome.restored) {
            pair.keepPreviewOpen();
            return run.end(found, { routes: outcome.routes, records: shifted.records }, 'paused', `Promote of ${(0,config_arn/* targetGroupName */.IT)(newFleet)} was cancelled; the canary is back at ${currentWeight}%: promote or rollback later`);
        }
        if (outcome.kind === 'failed')
            return endAfterFailedSteps(run, pair, found, shifted, outcome, what);
        const version = fleets[newFleet].record.version ? ` (${fleets[newFleet].record.version})` : '';
        return endWithNewFleetLive(run, pair, found, shifted, outcome.routes, `Promoted ${(0,config_arn/* targetGroupName */.IT)(newFleet)}${version} to all traffic; ${(0,config_arn/* targetGroupName */.IT)(stableFleet)} keeps running for a rollback`, () => runContractCommands(run, pair, newFleet, fleets[newFleet].record, fleets[newFleet].instances, stableFleet));
    });
}
/**
 * A promote with contract-commands on a fleet that already takes all traffic runs the contract
 * alone: later than the deploy (after a day of real traffic), or again after one that failed.
 */
async function contractLater(run, found) {
    const { traffic, fleets } = found;
    const live = traffic.live;
    const idle = traffic.idle;
    if (!live || !idle || fleets[live].record.role !== 'live') {
        return run.end(found, { routes: found.routes }, 'unchanged', 'No canary in progress and no fleet recorded live; nothing to promote or contract');
    }
    const version = fleets[live].record.version ? ` (${fleets[live].record.version})` : '';
    if (fleets[live].contract?.state === 'done') {
        return run.end(found, { routes: found.routes }, 'unchanged', `contract-commands already ran on ${(0,config_arn/* targetGroupName */.IT)(live)}${version} at ${fleets[live].contract?.at}; nothing to promote`);
    }
    const instanceId = chooseHookInstance(fleets[live].instances.map((i) => i.id), fleets[live].instances);
    run.report.plan = {
        newFleet: live,
        oldFleet: idle,
        instanceIds: fleets[live].instances.map((i) => i.id),
        steps: [],
        restore: {},
        pauses: false,
        checks: [],
        hooks: describeHooks(run.config, { newFleet: live, oldFleet: idle, instanceId, pauses: false })
    };
    if (run.config.dryRun) {
        return run.dryRun(found, `Dry run: would run contract-commands once on ${(0,config_arn/* targetGroupName */.IT)(live)}${version}; nothing was changed`);
    }
    return withThePair(run, found, { operation: 'promote', newFleet: live, stableFleet: idle, trafficMoved: false }, async (pair) => {
        const ending = await runContractCommands(run, pair, live, fleets[live].record, fleets[live].instances, idle);
        return run.end(found, { routes: found.routes }, ending?.result ?? 'succeeded', ending?.headline ??
            `contract-commands ran on ${(0,config_arn/* targetGroupName */.IT)(live)}${version}; from now on rollback to ${(0,config_arn/* targetGroupName */.IT)(idle)} is refused`);
    });
}

;// CONCATENATED MODULE: ./src/fleet/retired-fleet.ts
// A previous fleet that is an Auto Scaling group can be retired (scaled to zero, which costs
// nothing while it is not needed) and brought back for a rollback: scaled to the live fleet's
// size, its new instances installing the version Parameter Store records for it, and waited for
// until every one is healthy, before any traffic is sent to it.




/**
 * Scales the group to zero, after recording the size it had: a run that dies in between leaves a
 * record saying the fleet is retired, which a rollback reads to size it again.
 */
async function retireGroup(ctx, config, fleet, decision) {
    const retiredAt = new Date(ctx.clock.now()).toISOString();
    await writeRetired(ctx.clients.ssm, config.parameterPrefix, fleet.targetGroupArn, {
        group: decision.group,
        ...decision.before,
        retiredAt,
        by: ctx.run.url
    });
    if (decision.before.minSize > 0)
        await setGroupSize(ctx.clients.autoScaling, decision.group, decision.after);
    else
        await setDesiredCapacity(ctx.clients.autoScaling, decision.group, 0);
    ctx.log.info(`${decision.group}: desired capacity ${decision.before.desiredCapacity} -> 0 (recorded as retired)`);
}
/**
 * Scales a retired (or shrunk) group back and waits until all its instances are InService and
 * healthy in the fleet's target group. Returns how long that took, which the rollback reports:
 * it is the price of having retired the fleet.
 */
async function bringBack(ctx, config, fleet, decision, timeoutMs, guard = unguarded) {
    const group = fleet.groups[0];
    const started = ctx.clock.now();
    if (decision.kind === 'scale') {
        ctx.log.info(`Scaling ${group.name} from ${decision.from} to ${decision.to.desiredCapacity} instances for the rollback`);
        await guard(`Scaling ${group.name} back`, () => decision.to.minSize !== group.minSize
            ? setGroupSize(ctx.clients.autoScaling, group.name, decision.to)
            : setDesiredCapacity(ctx.clients.autoScaling, group.name, decision.to.desiredCapacity));
    }
    const ready = await waitUntilReady(ctx.clients.autoScaling, {
        groupName: group.name,
        targetGroupArn: fleet.targetGroupArn,
        needs: { managedBySsm: false, healthy: true },
        views: instanceViews(ctx.clients),
        clock: ctx.clock,
        log: ctx.log,
        signal: ctx.signal,
        timeoutMs,
        timeoutInput: 'health-timeout'
    });
    await guard('Clearing the retired record', () => clearRetired(ctx.clients.ssm, config.parameterPrefix, fleet.targetGroupArn));
    return { readyAfterMs: ctx.clock.now() - started, instanceIds: ready.instanceIds };
}

;// CONCATENATED MODULE: ./src/operations/rollback.ts
















/**
 * `operation: rollback`: all traffic back on the previous fleet in one verified write. From a
 * paused or stuck canary that is the stable fleet; after a finished deploy it is the fleet that
 * was live before, once its targets are checked healthy.
 */
async function rollback(config, ctx) {
    const run = new OperationRun(config, ctx);
    const first = await discover(config, ctx.clients.elb, ctx.routesAtStart);
    // Settings that cannot work are refused before anything changes, the dry run included; so is a
    // rollback that would not be safe as things stand.
    refuseProblems(first);
    // A previous fleet that was retired (or shrunk) comes back first: scaled, then healthy.
    const firstComeBack = await retiredFleetToBringBack(ctx, config, first);
    let planned;
    try {
        planned = decide(run, first, firstComeBack);
    }
    catch (refusal) {
        if (!(refusal instanceof RefusedPastContract))
            throw refusal;
        return run.end(first, { routes: first.routes }, 'failed', refusal.message);
    }
    // A paused canary's preview goes with it.
    const preview = await findPreview(run, first);
    Object.assign(run.report.outputs, { live: planned.from, idle: planned.target });
    const bringFirst = firstComeBack ? `${firstComeBack.plan}, then ` : '';
    ctx.log.info(`Rollback: ${planned.why}; ${bringFirst}all traffic to ${(0,config_arn/* targetGroupName */.IT)(planned.target)}`);
    if (config.dryRun)
        return run.dryRun(first, `Dry run: would ${bringFirst}put all traffic on ${(0,config_arn/* targetGroupName */.IT)(planned.target)} (${planned.why}); nothing was changed`);
    // Forced: a rollback is how a person stops the bleeding, also when the run holding the lock died.
    return withThePair(run, first, { operation: 'rollback', trafficMoved: false, force: true, preview }, async (pair) => {
        const c = pair.ctx;
        // Decided again under the lock: the run that held it may have moved traffic (or recorded a
        // deploy) before it noticed the take-over.
        const found = await discover(config, c.clients.elb);
        refuseProblems(found);
        const comeBack = await retiredFleetToBringBack(c, config, found);
        let decision;
        try {
            decision = decide(run, found, comeBack);
        }
        catch (refusal) {
            if (!(refusal instanceof RefusedPastContract))
                throw refusal;
            return run.end(found, { routes: found.routes }, 'failed', refusal.message);
        }
        const { target, from, why } = decision;
        if (target !== planned.target)
            c.log.warning(`Traffic moved while the lock was taken: ${why} instead`);
        const restore = Object.fromEntries(found.routes.map((r) => [r.arn, { [target]: 100, [from]: 0 }]));
        // Before anything is recorded for the post step: a run that dies while the fleet comes back
        // has moved no traffic and changed no record.
        const back = comeBack ? await bringBackForRollback(run, pair, found, comeBack) : undefined;
        const records = {
            [target]: { ...found.fleets[target].record, role: 'live' },
            // A canary that was rolled back is not a fleet to return to; a finished deploy is.
            [from]: {
                ...found.fleets[from].record,
                role: found.traffic.live === from && !isFailedRole(found.fleets[from].record.role) ? 'previous' : 'failed'
            }
        };
        // Should this run die half-way, its post step finishes it: the same weights, the same records.
        pair.restoreIfCut(restore);
        pair.recordsIfCut(records);
        const before = Object.fromEntries(found.routes.map((r) => [r.arn, pairWeights(r, found.traffic.pair)]));
        pair.trafficMoved(true, { before, after: restore });
        const startedAt = c.clock.now();
        const routes = await restoreTraffic(c, found.routes, { pair: found.traffic.pair, restore, targetSticky: pairTargetSticky(found), guard: pair.guard }, run.report.warnings);
        run.report.timeline.push({
            step: 1,
            weight: 0,
            startedAt,
            heldMs: 0,
            outcome: 'restored',
            checks: [`all traffic on ${(0,config_arn/* targetGroupName */.IT)(target)}, read back`]
        });
        await writeRecord(c, pair.guard, target, records[target]);
        await writeRecord(c, pair.guard, from, records[from]);
        pair.trafficMoved(false);
        pair.recordsIfCut({});
        Object.assign(run.report.outputs, { live: target, idle: from, previous: from });
        const version = records[target].version ? ` (${records[target].version})` : '';
        return run.end(found, { routes, records }, 'rolled-back', `Rolled back: all traffic on ${(0,config_arn/* targetGroupName */.IT)(target)}${version}, ${why}${back ? `; ${back}` : ''}`);
    });
}
class RefusedPastContract extends errors/* DeployError */.sH {
}
/** Where traffic goes back to, or a refusal: the rollback rules and the contract guard. */
function decide(run, found, comeBack) {
    const decision = chooseRollbackTarget(found, comeBack?.fleet.targetGroupArn);
    const { target, from } = decision;
    // Sending users back to code the data no longer fits could turn a bad release into an outage.
    if (target !== found.traffic.live) {
        try {
            const { warning } = judgeRollbackPastContract({ arn: from, version: found.fleets[from].record.version, contract: found.fleets[from].contract }, { arn: target, version: found.fleets[target].record.version }, run.config.allowRollbackPastContract);
            if (warning && !run.report.warnings.includes(warning)) {
                run.ctx.log.warning(warning);
                run.report.warnings.push(warning);
            }
        }
        catch (refusal) {
            if (refusal instanceof errors/* DeployError */.sH)
                throw new RefusedPastContract(refusal.message);
            throw refusal;
        }
    }
    return decision;
}
/**
 * The previous fleet, when it is one Auto Scaling group that cannot take traffic now (retired,
 * or shrunk) and holds no failed deploy. A healthy previous fleet is rolled back to at once, as
 * before, without a call to Auto Scaling.
 */
async function retiredFleetToBringBack(ctx, config, found) {
    const { traffic } = found;
    if (!traffic.percent || traffic.mixed || !traffic.live || !traffic.idle)
        return undefined;
    const previous = found.fleets[traffic.idle];
    const healthy = previous.instances.length > 0 && previous.instances.every((t) => t.state === 'healthy');
    if (healthy || isFailedRole(previous.record.role))
        return undefined;
    const ids = (arn) => found.fleets[arn].instances.map((t) => t.id);
    const [idle] = await detectOrAssumePlain(ctx.clients.autoScaling, [{ targetGroupArn: traffic.idle, registeredIds: ids(traffic.idle) }], ctx.log);
    if (idle.groups.length !== 1)
        return undefined;
    const [[live], parameters] = await Promise.all([
        detectOrAssumePlain(ctx.clients.autoScaling, [{ targetGroupArn: traffic.live, registeredIds: ids(traffic.live) }], ctx.log),
        readFleetParameters(ctx.clients.ssm, config.parameterPrefix, [traffic.idle])
    ]);
    const retired = parameters.get(traffic.idle)?.retired;
    previous.autoScaling = groupsReport(idle, retired);
    const decision = planComeBack(idle, fleetCapacity(live), retired);
    if (decision.kind === 'refuse')
        throw new errors/* DeployError */.sH(`${decision.message}; traffic stays where it is`);
    const group = idle.groups[0].name;
    const plan = decision.kind === 'scale'
        ? `scale ${group} from ${decision.from} to ${decision.to.desiredCapacity} instances and wait until they are healthy`
        : `wait until the instances of ${group} are healthy`;
    return { fleet: idle, decision, plan };
}
/**
 * Scales the previous fleet back and waits for it, under the lock (the waits renew its lease);
 * says how long that took.
 */
async function bringBackForRollback(run, pair, found, comeBack) {
    const { config } = run;
    const c = pair.ctx;
    const group = comeBack.fleet.groups[0].name;
    const arn = comeBack.fleet.targetGroupArn;
    const budget = Math.min(config.healthTimeoutMs, run.deadline - c.clock.now());
    const { readyAfterMs } = await bringBack(c, config, comeBack.fleet, comeBack.decision, budget, pair.guard);
    found.fleets[arn].instances = await (0,elbv2/* targetHealth */.kG)(c.clients.elb, arn);
    const scaled = comeBack.decision.kind === 'scale' ? comeBack.decision : undefined;
    run.report.autoScaling = {
        group,
        suspended: [],
        leftAlone: [],
        ...(scaled
            ? { scaled: { from: scaled.from, to: scaled.to.desiredCapacity, why: 'the rollback', readyAfterMs } }
            : {})
    };
    const took = (0,duration/* formatDuration */.a)(readyAfterMs);
    const line = scaled
        ? `${group} was scaled from ${scaled.from} to ${scaled.to.desiredCapacity} instances and healthy in ${took}`
        : `${group} was healthy after ${took}`;
    c.log.info(line);
    return line;
}

// EXTERNAL MODULE: external "node:crypto"
var external_node_crypto_ = __webpack_require__(7598);
// EXTERNAL MODULE: ./node_modules/@actions/github/lib/github.js + 22 modules
var github = __webpack_require__(2413);
;// CONCATENATED MODULE: ./src/runtime/run-identity.ts


/** This workflow run as other runs and people see it: a lock id and a link. */
function runIdentity(run = github/* context */._, host = process.env.HOSTNAME) {
    const repository = repositoryOf(run);
    const runId = Number.isInteger(run.runId) && run.runId > 0 ? String(run.runId) : undefined;
    const attempt = Number.isInteger(run.runAttempt) && run.runAttempt > 0 ? run.runAttempt : 1;
    const url = repository && runId
        ? `${run.serverUrl}/${repository}/actions/runs/${runId}/attempts/${attempt}`
        : `local run on ${host ?? 'this machine'}`;
    // The suffix tells apart two jobs of one run, which share run id and attempt.
    const id = `${runId ?? 'local'}-${attempt}-${run.job || 'job'}-${(0,external_node_crypto_.randomBytes)(3).toString('hex')}`.replace(/[^A-Za-z0-9_.:/=+\-@]/g, '-');
    return {
        id,
        url,
        repository,
        runId,
        attempt,
        sha: run.sha || undefined,
        actor: run.actor || undefined,
        workflow: run.workflow || undefined,
        job: run.job || undefined
    };
}
function repositoryOf(run) {
    try {
        const { owner, repo } = run.repo;
        return `${owner}/${repo}`;
    }
    catch {
        return undefined;
    }
}

;// CONCATENATED MODULE: ./src/operations/status.ts













/** `operation: status`: reads and reports, changes nothing. */
async function status_status(config, ctx) {
    const report = newReport(config, ctx.clock.now(), ctx.run.url);
    const found = await discover(config, ctx.clients.elb, ctx.routesAtStart);
    await lookUpGroups(config, ctx, found);
    describeFleetsAndRoutes(report, found, { routes: found.routes });
    report.headline = trafficHeadline(found);
    report.outputs.live = found.traffic.live;
    report.outputs.idle = found.traffic.idle;
    report.outputs.previous = found.traffic.pair.find((arn) => found.fleets[arn].record.role === 'previous');
    report.rollbackSafety = rollbackSafety(found);
    const preview = await PreviewRoute.find(ctx, { routes: found.routes, pair: found.traffic.pair }, { withAddresses: true, warnings: report.warnings });
    if (preview)
        report.preview = preview.report;
    const lockName = lockParameterName(config.parameterPrefix, found.traffic.pair);
    const lock = judgeLock((await readParameter(ctx.clients.ssm, lockName))?.value, ctx.run.id, ctx.clock.now());
    if (lock.kind === 'held')
        report.warnings.push(`A run holds the deploy lock ${lockName}: ${describeHolder(lock.claim)}`);
    if (lock.kind === 'expired') {
        report.warnings.push(`The deploy lock ${lockName} is left by a run that died: ${describeHolder(lock.claim)}; the next run takes it over`);
    }
    // Settings a changing run would refuse: status says so, so that the next deploy does not surprise.
    for (const problem of found.problems)
        report.warnings.push(problem.message);
    for (const line of [report.headline, report.rollbackSafety.line, ...report.warnings])
        ctx.log.info(line);
    for (const rule of report.preview?.rules ?? [])
        if (rule.curl)
            ctx.log.info(`Preview open: ${rule.curl}`);
    report.result = 'unchanged';
    report.finishedAt = ctx.clock.now();
    return report;
}
/**
 * The Auto Scaling groups behind the fleets, and which fleets are retired. Parameter Store is read
 * only when a fleet is a group, so the status of plain fleets is what it always was.
 */
async function lookUpGroups(config, ctx, found) {
    const pair = found.traffic.pair;
    const fleets = await detectOrAssumePlain(ctx.clients.autoScaling, pair.map((arn) => ({ targetGroupArn: arn, registeredIds: found.fleets[arn].instances.map((t) => t.id) })), ctx.log);
    const withGroups = fleets.filter(isAutoScalingFleet);
    if (withGroups.length === 0)
        return;
    const parameters = await readFleetParameters(ctx.clients.ssm, config.parameterPrefix, withGroups.map((f) => f.targetGroupArn));
    for (const fleet of withGroups) {
        const recorded = parameters.get(fleet.targetGroupArn);
        const retired = fleet.groups.every((g) => g.desiredCapacity === 0) ? recorded?.retired : undefined;
        found.fleets[fleet.targetGroupArn].autoScaling = groupsReport(fleet, retired);
        for (const g of fleet.groups) {
            const suspended = g.suspendedProcesses.length > 0 ? `; suspended: ${g.suspendedProcesses.join(', ')}` : '';
            const inService = g.instances.filter((i) => i.lifecycleState === 'InService').length;
            ctx.log.info(`${(0,config_arn/* targetGroupName */.IT)(fleet.targetGroupArn)}: Auto Scaling group ${g.name}, ${inService}/${g.desiredCapacity} InService (min ${g.minSize}, max ${g.maxSize})${suspended}`);
        }
        if (recorded?.version)
            ctx.log.info(`  version for new instances (Parameter Store): ${recorded.version}`);
    }
}
/** Where traffic is, in one line: "web-blue is live (v41); web-green is idle (v40)". */
function trafficHeadline(found) {
    const { traffic, fleets } = found;
    const retired = (arn) => (fleets[arn].autoScaling?.retired ? ', retired' : '');
    const version = (arn) => (fleets[arn].record.version ? ` (version ${fleets[arn].record.version})` : '') + retired(arn);
    const staged = stagedCanary(traffic, fleets);
    if (staged && traffic.live) {
        return `${(0,config_arn/* targetGroupName */.IT)(traffic.live)} is live${version(traffic.live)}; ${(0,config_arn/* targetGroupName */.IT)(staged)} holds a canary staged at 0%${version(staged)}; run promote or rollback`;
    }
    if (traffic.live && traffic.idle) {
        return `${(0,config_arn/* targetGroupName */.IT)(traffic.live)} is live${version(traffic.live)}; ${(0,config_arn/* targetGroupName */.IT)(traffic.idle)} is idle${version(traffic.idle)}`;
    }
    if (traffic.percent) {
        const canary = traffic.pair.find((arn) => fleets[arn].record.role === 'canary');
        return `Canary in progress: ${describeWeights(traffic.percent)}${canary ? `; ${(0,config_arn/* targetGroupName */.IT)(canary)} is the new fleet${version(canary)}` : ''}; run promote or rollback`;
    }
    return `Routes disagree: ${found.traffic.routes.map((r) => describeWeights(r.weights)).join(' vs ')}; run rollback to put all traffic back on the stable fleet`;
}

;// CONCATENATED MODULE: ./src/operations/retire.ts








/**
 * `operation: retire`: scales the previous fleet's Auto Scaling group to zero once the new version
 * has baked, and records that on AWS. Only a fleet that takes no traffic on any route is retired;
 * a rollback brings it back (scaled to the live fleet's size, healthy) before it sends it traffic.
 */
function retire(config, ctx) {
    // Traffic that moves while the lock is taken is read again: the fleet may no longer be idle.
    return planningAgainOnChange(ctx, (attempt) => retireOnce(config, attempt));
}
async function retireOnce(config, ctx) {
    const run = new OperationRun(config, ctx);
    const found = await discover(config, ctx.clients.elb, ctx.routesAtStart);
    refuseProblems(found);
    const { traffic } = found;
    if (!traffic.percent || traffic.mixed || !traffic.live || !traffic.idle) {
        const weights = traffic.percent
            ? describeWeights(traffic.percent)
            : traffic.routes.map((r) => describeWeights(r.weights)).join(' vs ');
        throw new errors/* DeployError */.sH(`Traffic is not all on one fleet (${weights}); retire scales down only a fleet that takes none: finish the canary with promote or undo it with rollback first`);
    }
    const previous = traffic.idle;
    const name = (0,config_arn/* targetGroupName */.IT)(previous);
    const [fleet] = await detectOrAssumePlain(ctx.clients.autoScaling, [{ targetGroupArn: previous, registeredIds: found.fleets[previous].instances.map((t) => t.id) }], ctx.log);
    found.fleets[previous].autoScaling = groupsReport(fleet);
    Object.assign(run.report.outputs, { live: traffic.live, idle: previous });
    const decision = planRetire(fleet, name);
    if (decision.kind === 'refuse')
        throw new errors/* DeployError */.sH(`${decision.message}; nothing was changed`);
    if (decision.kind === 'already') {
        return run.end(found, { routes: found.routes }, 'unchanged', `${name} is already retired: ${decision.group} runs no instances`);
    }
    const { before } = decision;
    const what = `scale ${decision.group} from ${before.desiredCapacity} to 0 instances${before.minSize > 0 ? ` (MinSize ${before.minSize} to 0)` : ''}`;
    ctx.log.info(`Retire ${name}: ${what}`);
    if (config.dryRun)
        return run.dryRun(found, `Dry run: would ${what}; nothing was changed`);
    return withThePair(run, found, { operation: 'retire', trafficMoved: false }, async (pair) => {
        await pair.guard(`Retiring ${name}`, () => retireGroup(pair.ctx, config, fleet, decision));
        run.report.autoScaling = { group: decision.group, suspended: [], leftAlone: [], retiredFrom: before };
        return run.end(found, { routes: found.routes }, 'succeeded', `Retired ${name}: ${decision.group} scaled from ${before.desiredCapacity} to 0 instances; a rollback scales it back to the live fleet's size and waits for it to be healthy before it moves traffic`);
    });
}

;// CONCATENATED MODULE: ./src/report/escape.ts
// Escaping: every string from AWS or an instance goes through one of these before it is written
// into the job summary, so that instance output cannot break a table, turn into links or markup,
// or spoof the text around it.
/** A zero-width space: breaks `://`, `www.` and `@name` so GitHub links none of them. */
const ZWSP = '\u200B';
/** Longest cell text from AWS or an instance, so that one long reason cannot widen a table. */
const CELL_MAX_CHARS = 300;
// Control characters (ANSI escapes among them) and bidi overrides, which could spoof the text
// around them; shown as U+FFFD.
const UNSAFE = '\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F\\u007F\\u202A-\\u202E\\u2066-\\u2069';
// Markdown and HTML specials, line breaks, and what GitHub autolinks (`scheme://`, `www.`,
// `@mention`, `#123`).
const MARKDOWN_SPECIAL = new RegExp(`\\r\\n?|\\n|:\\/\\/|www\\.|[\\\\\`*_[\\]()#!|<>&~$@${UNSAFE}]`, 'gi');
const UNSAFE_CHAR = new RegExp(`[${UNSAFE}]`);
// Backticks and tildes too, so that a fence in the output stays text even to a renderer that
// does not keep `<pre>` raw.
const HTML_SPECIAL = new RegExp(`\\r\\n?|:\\/\\/|www\\.|[<>&#@\`~${UNSAFE}]`, 'gi');
/** Would GitHub turn `@` or `#` at this offset into a mention or an issue link? */
function startsReference(text, offset) {
    return /[\p{L}\p{N}_]/u.test(text.charAt(offset + 1));
}
function linkBreak(match, offset, text) {
    if (match === '://')
        return `:${ZWSP}//`;
    if (match.length === 4)
        return `${match.slice(0, 3)}${ZWSP}.`; // www.
    if (match === '@')
        return startsReference(text, offset) ? `@${ZWSP}` : '@';
    if (match === '#' && startsReference(text, offset))
        return `&#35;${ZWSP}`;
    if (match.length === 1 && UNSAFE_CHAR.test(match))
        return '\uFFFD';
    return undefined;
}
function markdownReplacement(match, offset, text) {
    const linked = linkBreak(match, offset, text);
    if (linked !== undefined)
        return linked;
    switch (match) {
        case '\n':
        case '\r':
        case '\r\n':
            return '<br>';
        case '&':
            return '&amp;';
        case '<':
            return '&lt;';
        case '>':
            return '&gt;';
        default:
            return `&#${match.charCodeAt(0)};`;
    }
}
function htmlReplacement(match, offset, text) {
    const linked = linkBreak(match, offset, text);
    if (linked !== undefined)
        return linked;
    switch (match) {
        case '&':
            return '&amp;';
        case '<':
            return '&lt;';
        case '>':
            return '&gt;';
        case '#':
            return '#';
        case '`':
        case '~':
            return `&#${match.charCodeAt(0)};`;
        default:
            return '\n'; // \r or \r\n
    }
}
/**
 * Text from AWS or an instance, made safe to place inline in markdown or HTML: the result is one
 * line, every markdown and HTML special is a character reference, and URLs, `www.` and
 * `@mentions` are broken with a zero-width space so that GitHub links none of them. It also
 * cannot start a block (list, heading, setext underline, code indent) at the start of a line.
 */
function escapeMarkdown(text) {
    const escaped = text.replace(MARKDOWN_SPECIAL, markdownReplacement);
    const number = /^(\d{1,9})\./.exec(escaped);
    if (number)
        return `${number[1]}&#46;${escaped.slice(number[0].length)}`;
    return /^[-+= \t]/.test(escaped) ? `&#${escaped.charCodeAt(0)};${escaped.slice(1)}` : escaped;
}
/** Text for a table cell: escaped as by `escapeMarkdown`, trimmed and cut to `maxChars`. */
function escapeCell(text, maxChars = CELL_MAX_CHARS) {
    let value = text.trim();
    if (value.length > maxChars) {
        let end = maxChars - 1;
        // Do not split a surrogate pair.
        if (/[\uDC00-\uDFFF]/.test(value.charAt(end)))
            end -= 1;
        value = `${value.slice(0, end)}…`;
    }
    return escapeMarkdown(value);
}
/**
 * Text for inside `<pre>`: HTML-escaped with its lines kept (a fenced block would not do, since
 * a fence in the output would close it), links and mentions broken as in `escapeMarkdown`.
 */
function escapeHtml(text) {
    return text.replace(HTML_SPECIAL, htmlReplacement);
}

;// CONCATENATED MODULE: ./src/report/markdown.ts
// Small markdown building blocks for the job summary; cells and text must already be escaped.

/** Size of a text in UTF-8, which is what the runner's summary limit counts. */
function bytes(text) {
    return Buffer.byteLength(text, 'utf8');
}
/** A markdown table; cells must already be escaped. */
function table(header, rows, rightAligned = []) {
    const line = (cells) => `| ${cells.join(' | ')} |`;
    const rule = `|${header.map((_, i) => (rightAligned[i] ? '---:' : '---')).join('|')}|`;
    return [line(header), rule, ...rows.map(line)].join('\n');
}
/** `a → b`, or just `a` when it did not change; each side escaped. */
function change(before, after) {
    if (before === undefined && after === undefined)
        return '–';
    if (before === after)
        return escapeCell(before ?? '');
    return `${before === undefined ? '–' : escapeCell(before)} → ${after === undefined ? '–' : escapeCell(after)}`;
}
function markdown_shortVersion(version) {
    return version !== undefined && /^[0-9a-f]{40}$/i.test(version) ? version.slice(0, 7) : version;
}
function percent(weight) {
    return `${round(weight)}%`;
}
function round(n) {
    return Math.round(n * 10) / 10;
}
function formatTime(ms) {
    return new Date(ms).toISOString().slice(11, 19);
}
function formatDate(ms) {
    return `${new Date(ms).toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}
function markdown_count(n, noun) {
    return `${n.toLocaleString('en-US')} ${noun}${n === 1 ? '' : 's'}`;
}
function markdown_capitalise(text) {
    return text.charAt(0).toUpperCase() + text.slice(1);
}
/** A markdown link, only for an https URL; characters that could end the link are encoded. */
function markdown_link(label, url) {
    if (!url || !/^https:\/\/[^\s]+$/.test(url))
        return undefined;
    const safe = url.replace(/[()<>[\]"'`\\|]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`);
    return `[${label}](${safe})`;
}
/**
 * The last lines of an output, at most `maxLines` and about `maxBytes`; looks only at the end
 * of the text, so it is fast however long the output.
 */
function lastLines(output, maxLines, maxBytes) {
    const full = output.trimEnd();
    if (maxLines <= 0 || maxBytes <= 0)
        return { text: '', cut: full.length > 0 };
    // Each UTF-16 unit is at least one UTF-8 byte, so the last maxBytes units hold the answer.
    let text = full.slice(-maxBytes).replace(/\r\n?/g, '\n');
    let cut = text.length < full.length;
    while (bytes(text) > maxBytes) {
        text = text.slice(Math.ceil(text.length / 8));
        cut = true;
    }
    if (/^[\uDC00-\uDFFF]/.test(text))
        text = text.slice(1);
    let start = text.length;
    for (let i = 0; i < maxLines && start > 0; i++)
        start = text.lastIndexOf('\n', start - 1);
    if (start > 0) {
        text = text.slice(start + 1);
        cut = true;
    }
    return { text: text.replace(/^\n+/, ''), cut };
}

;// CONCATENATED MODULE: ./src/report/analysis-summary.ts



// The canary judge's part of the job summary: what it saw at each step and what it decided.
/** The new fleet's error rate in red beside the stable fleet's in the weight chart's blue. */
const ANALYSIS_COLOURS = '#dc2626, #2563eb';
const VERDICT = {
    pass: 'pass',
    fail: '**fail**',
    inconclusive: '*inconclusive*'
};
/** The judge's evidence per step: both fleets' requests, 5xx rate and latency, the verdict and why. */
function analysisBlocks(analysis) {
    if (analysis.length === 0)
        return [];
    const rate = (s) => (s.requests > 0 ? pct(s.errors / s.requests) : '–');
    const ms = (v) => (v === undefined ? '–' : `${Math.round(v)} ms`);
    const latency = (s) => `${ms(s.latencyAvgMs)} · ${ms(s.latencyP99Ms)}`;
    const baseline = analysis.some((a) => a.stableFromBaseline);
    const rows = analysis.map((a) => {
        const mark = a.stableFromBaseline ? ' ¹' : '';
        return [
            `${a.step === 0 ? 'paused' : a.step} (${percent(a.weight)})`,
            `${a.newFleet.requests.toLocaleString('en-US')} / ${a.stable.requests.toLocaleString('en-US')}${mark}`,
            `${rate(a.newFleet)} / ${rate(a.stable)}${mark}`,
            `${latency(a.newFleet)} / ${latency(a.stable)}${mark}`,
            `${VERDICT[a.verdict]}${a.early ? ' (early)' : ''}${a.extended ? ' (extended)' : ''}`
        ];
    });
    const why = analysis.map((a) => `- Step ${a.step === 0 ? '0 (paused canary)' : a.step}: ${escapeMarkdown(a.reason)}`);
    const notes = [
        "5xx counts the targets' 5xx answers and the connections to them that failed (the load balancer's 502s).",
        ...(baseline
            ? ['¹ At 100% on the new fleet, the stable fleet is judged on its own traffic from before the first shift.']
            : [])
    ];
    return [
        '### Canary analysis',
        analysisChart(analysis),
        table(['step', 'requests new / stable', '5xx new / stable', 'latency avg · p99 new / stable', 'verdict'], rows, [
            false,
            true,
            true,
            true
        ]),
        why.join('\n'),
        notes.map((n) => `<sub>${n}</sub>`).join('<br>')
    ];
}
/** Both fleets' 5xx rate at each judged step, labelled with the step's weight. */
function analysisChart(analysis) {
    const share = (s) => (s.requests > 0 ? (100 * s.errors) / s.requests : 0);
    const newRates = analysis.map((a) => share(a.newFleet));
    const stableRates = analysis.map((a) => share(a.stable));
    const top = Math.max(1, Math.ceil(Math.max(...newRates, ...stableRates) * 1.2));
    const init = { themeVariables: { xyChart: { plotColorPalette: ANALYSIS_COLOURS } } };
    const decimals = (v) => Math.round(v * 100) / 100;
    return [
        '```mermaid',
        `%%{init: ${JSON.stringify(init)}}%%`,
        'xychart-beta',
        '  title "5xx rate (%): new fleet (red), stable fleet (blue)"',
        `  x-axis [${analysis.map((a) => JSON.stringify(`step ${a.step} at ${round(a.weight)}%`)).join(', ')}]`,
        `  y-axis "5xx rate (%)" 0 --> ${top}`,
        `  line [${newRates.map(decimals).join(', ')}]`,
        `  line [${stableRates.map(decimals).join(', ')}]`,
        '```'
    ].join('\n');
}

;// CONCATENATED MODULE: ./src/report/hooks-summary.ts
// The summary's parts for the run-once hooks, the preview route and the rollback target: where
// each hook ran and what it printed, the preview's rules with a curl line to try, and whether a
// rollback would still be safe. Everything from AWS or an instance is escaped here.





const hooks_summary_TAIL_LINES = 40;
const TAIL_BYTES = 4096;
/** The plan's lines about the hooks, as list items. */
function hookPlanFacts(plan) {
    return (plan.hooks ?? []).map((line) => `- **Hook:** ${escapeMarkdown(line)}`);
}
/** The preview: its header, each rule, and a request that reaches the new fleet through it. */
function previewBlocks(report) {
    const preview = report.preview;
    if (!preview || preview.rules.length === 0)
        return [];
    const state = {
        planned: report.dryRun ? 'would open' : 'planned',
        open: report.dryRun
            ? 'open; this run would remove it'
            : report.result === 'paused' || report.operation === 'status'
                ? 'open until a promote or rollback ends the canary'
                : 'open',
        removed: 'removed when the run ended',
        left: '**could not be removed**: see the warnings'
    }[preview.state];
    const header = `\`${escapeCode(preview.header)}: ${escapeCode(preview.value)}\``;
    const blocks = [
        '### Preview',
        `Requests carrying ${header} reach **${escapeMarkdown((0,config_arn/* targetGroupName */.IT)(preview.fleet))}** only, through the load balancer, whatever the weights; ${state}.`,
        table(['listener', 'priority', 'rule'], preview.rules.map((rule) => [
            escapeCell((0,config_arn/* routeLabel */.qA)(rule.listenerArn)),
            String(rule.priority),
            rule.ruleArn ? escapeCell(rule.ruleArn.split('/').slice(-1)[0]) : '–'
        ]), [false, true, false])
    ];
    const curls = [...new Set(preview.rules.flatMap((r) => (r.curl ? [r.curl] : [])))];
    if (curls.length && preview.state !== 'removed') {
        // A fence shows the line as it is; only a line that could break out of it is escaped instead.
        const fenced = curls.every((c) => /^[\x20-\x7e]+$/.test(c) && !c.includes('`'));
        blocks.push(fenced ? ['```sh', ...curls, '```'].join('\n') : curls.map((c) => escapeMarkdown(c)).join('<br>'));
        if (curls.some((c) => c.includes('https://'))) {
            blocks.push("For an HTTPS listener, use the domain on its certificate instead of the load balancer's DNS name.");
        }
    }
    return blocks;
}
/** Each hook that ran: where, how it ended, and the end of its output. */
function hookBlocks(report) {
    const hooks = report.hooks ?? [];
    if (hooks.length === 0)
        return [];
    const rows = hooks.map((h) => [
        `\`${HOOK_INPUT[h.hook]}\``,
        escapeCell(h.instanceId),
        h.status === 'Success' ? escapeCell(h.status) : `**${escapeCell(h.status)}**`,
        h.exitCode === undefined ? '–' : String(h.exitCode),
        h.durationMs === undefined ? '–' : (0,duration/* formatDuration */.a)(h.durationMs),
        markdown_link('SSM command', h.consoleUrl) ?? (h.commandId ? escapeCell(h.commandId) : '–')
    ]);
    const blocks = [
        '### Run-once hooks',
        table(['hook', 'ran on', 'status', 'exit', 'took', 'command'], rows, [false, false, false, true, true, false])
    ];
    for (const hook of hooks)
        blocks.push(...tailBlock(hook));
    return blocks;
}
/** Whether the previous fleet is still somewhere to go back to. */
function rollbackSafetyBlocks(report) {
    const safety = report.rollbackSafety;
    if (!safety)
        return [];
    return ['### Rollback', `${safety.safe ? '✅' : '⛔'} ${escapeMarkdown(safety.line)}`];
}
function tailBlock(hook) {
    if (!hook.outputTail?.trim())
        return [];
    const { text, cut } = lastLines(hook.outputTail, hooks_summary_TAIL_LINES, TAIL_BYTES);
    const exit = hook.exitCode === undefined ? '' : `, exit ${hook.exitCode}`;
    return [
        [
            `<details><summary>${HOOK_INPUT[hook.hook]} on ${escapeMarkdown(hook.instanceId)}: ${escapeMarkdown(hook.status)}${exit}</summary>`,
            '',
            `<pre>\n${cut ? '… earlier output cut\n' : ''}${escapeHtml(text)}\n</pre>`,
            '',
            '</details>'
        ].join('\n')
    ];
}
/** Text inside a code span: backticks and line breaks could end it early. */
function escapeCode(text) {
    return text.replace(/[`\r\n]/g, ' ');
}

;// CONCATENATED MODULE: ./src/report/auto-scaling-summary.ts
// The job summary's Auto Scaling parts: the groups behind each fleet (a column of the fleets
// table, present only when a fleet is a group) and what the run did to the group it worked on.


/** `web-green-asg 3/3 (min 0, max 6)`, retired or suspended processes said after it. */
function fleetGroupsCell(fleet) {
    const report = fleet.autoScaling;
    if (!report)
        return '–';
    const groups = report.groups.map((g) => {
        const suspended = g.suspended.length > 0 ? `; suspended: ${g.suspended.join(', ')}` : '';
        return `${escapeCell(g.name)} ${g.inService}/${g.desired} (min ${g.min}, max ${g.max}${escapeCell(suspended)})`;
    });
    const retired = report.retired
        ? [
            `**retired** ${escapeCell(report.retired.at.slice(0, 16).replace('T', ' '))} UTC, was ${report.retired.desiredCapacity}`
        ]
        : [];
    return [...groups, ...retired].join('<br>');
}
/** What the run did to the fleet's Auto Scaling group, in the order it did it. */
function autoScalingBlocks(report) {
    const a = report.autoScaling;
    if (!a)
        return [];
    const group = escapeMarkdown(a.group);
    const facts = [];
    if (a.scaled) {
        const ready = a.scaled.readyAfterMs !== undefined ? `, ready after ${(0,duration/* formatDuration */.a)(a.scaled.readyAfterMs)}` : '';
        facts.push(`- **Scaled** ${group} from ${a.scaled.from} to ${a.scaled.to} instances for ${escapeMarkdown(a.scaled.why)}${ready}`);
    }
    if (a.retiredFrom) {
        facts.push(`- **Retired:** ${group} scaled from ${a.retiredFrom.desiredCapacity} to 0 instances; a rollback brings it back`);
    }
    if (a.suspended.length > 0) {
        const resumed = a.resumed === true
            ? 'resumed at the end'
            : a.resumed === false
                ? '**not resumed: see the warnings**'
                : 'still suspended';
        facts.push(`- **Held still:** ${a.suspended.join(', ')} suspended on ${group} from the commands on; ${resumed}`);
    }
    if (a.leftAlone.length > 0)
        facts.push(`- **Left alone:** ${a.leftAlone.map((p) => escapeMarkdown(p)).join(', ')} (suspended before the run)`);
    if (a.versionParameter)
        facts.push(`- **Version for new instances:** recorded in Parameter Store as ${escapeMarkdown(a.versionParameter)}`);
    return facts.length > 0 ? ['### Auto Scaling', facts.join('\n')] : [];
}

;// CONCATENATED MODULE: ./src/report/traffic-chart.ts

/** The colour of the weight line: the default theme draws it nearly invisible. */
const CHART_COLOUR = '#2563eb';
/** The chart's points: where each step started, and where the last one ended. */
function chartPoints(timeline) {
    const points = [];
    const first = timeline[0];
    // A deploy's first step starts from the idle fleet, which took no traffic.
    if (first?.step === 1)
        points.push({ label: 'before', weight: 0 });
    for (const entry of timeline)
        points.push({ label: formatTime(entry.startedAt), weight: entry.weight });
    const last = timeline.at(-1);
    if (last && last.heldMs > 0)
        points.push({ label: formatTime(last.startedAt + last.heldMs), weight: last.weight });
    return points;
}
/** The weight on the new fleet over the run, as a mermaid line chart. */
function weightChart(timeline) {
    const points = chartPoints(timeline);
    const init = { themeVariables: { xyChart: { plotColorPalette: CHART_COLOUR } } };
    return [
        '```mermaid',
        `%%{init: ${JSON.stringify(init)}}%%`,
        'xychart-beta',
        '  title "Traffic on the new fleet (%)"',
        `  x-axis [${points.map((p) => JSON.stringify(p.label)).join(', ')}]`,
        '  y-axis "% of traffic" 0 --> 100',
        `  line [${points.map((p) => round(p.weight)).join(', ')}]`,
        '```'
    ].join('\n');
}

;// CONCATENATED MODULE: ./src/report/summary.ts








/**
 * The runner rejects a step summary over 1 MiB; half of that leaves room for the notes the
 * renderer adds when it cuts, and for UTF-8 surprises.
 */
const DEFAULT_MAX_BYTES = 512 * 1024;
/** Fleets up to this size also show the output of instances that succeeded. */
const SMALL_FLEET = 10;
// Output tails are cut first, then rows; the last resort (cutting blocks) is in `fitBlocks`.
const DETAIL_LEVELS = [
    { rows: 200, tails: 50, tailLines: 40, tailBytes: 4096 },
    { rows: 200, tails: 50, tailLines: 15, tailBytes: 1536 },
    { rows: 200, tails: 20, tailLines: 8, tailBytes: 768 },
    { rows: 200, tails: 5, tailLines: 5, tailBytes: 512 },
    { rows: 100, tails: 0, tailLines: 0, tailBytes: 0 },
    { rows: 50, tails: 0, tailLines: 0, tailBytes: 0 },
    { rows: 20, tails: 0, tailLines: 0, tailBytes: 0 }
];
const RESULT_TITLE = {
    succeeded: ['✅', 'succeeded'],
    paused: ['⏸️', 'paused'],
    'rolled-back': ['↩️', 'rolled back'],
    failed: ['❌', 'failed'],
    unchanged: ['➖', 'unchanged']
};
/** `✅ Deploy succeeded`, `⏸️ Deploy dry run paused`; a rollback that worked is a success. */
function titleText(report) {
    const [emoji, word] = RESULT_TITLE[report.result];
    const dry = report.dryRun ? ' dry run' : '';
    if (report.operation === 'rollback' && report.result === 'rolled-back')
        return `✅ Rolled back${dry}`;
    if (report.operation === 'status' && report.result === 'unchanged')
        return `📋 Status`;
    return `${emoji} ${markdown_capitalise(report.operation)}${dry} ${word}`;
}
/**
 * The job summary for a run, as GitHub-flavoured markdown, under `maxBytes` (UTF-8). Per-instance
 * detail is reduced to fit: output tails first, then table rows, and as a last resort the
 * summary is cut with a note.
 */
function renderSummary(report, opts = {}) {
    const maxBytes = opts.maxBytes ?? DEFAULT_MAX_BYTES;
    const head = [
        ...titleBlocks(report),
        ...failureBlocks(report),
        ...warningBlocks(report.warnings),
        ...fleetBlocks(report.fleets),
        ...autoScalingBlocks(report),
        ...routeBlocks(report),
        ...(report.plan ? planBlocks(report.plan, report) : []),
        ...timelineBlocks(report.timeline),
        ...analysisBlocks(report.analysis ?? []),
        ...previewBlocks(report),
        ...hookBlocks(report),
        ...rollbackSafetyBlocks(report)
    ];
    const headBytes = blocksBytes(head);
    const commands = report.commands ? orderCommandResults(report.commands) : undefined;
    let blocks = head;
    for (const detail of DETAIL_LEVELS) {
        const tail = [
            ...(report.commands && commands ? commandBlocks(report.commands, commands, detail) : []),
            ...healthBlocks(report.fleets, detail)
        ];
        blocks = [...head, ...tail];
        if (headBytes + blocksBytes(tail) + SEPARATOR_BYTES + 1 <= maxBytes)
            return joinBlocks(blocks);
    }
    return joinBlocks(fitBlocks(blocks, maxBytes, report));
}
const SEPARATOR = '\n\n';
const SEPARATOR_BYTES = SEPARATOR.length;
function joinBlocks(blocks) {
    return `${blocks.join(SEPARATOR)}\n`;
}
function blocksBytes(blocks) {
    return blocks.reduce((sum, block) => sum + bytes(block) + SEPARATOR_BYTES, 0);
}
// --- title, failure, warnings -----------------------------------------------------------------
function titleBlocks(report) {
    const title = `## ${titleText(report)}`;
    const facts = [
        report.version !== undefined ? `Version **${escapeMarkdown(markdown_shortVersion(report.version))}**` : undefined,
        `started ${formatDate(report.startedAt)}`,
        `took ${(0,duration/* formatDuration */.a)(Math.max(0, report.finishedAt - report.startedAt))}`,
        report.dryRun ? 'nothing was changed' : undefined,
        markdown_link('workflow run', report.runUrl)
    ].filter((fact) => fact !== undefined);
    const blocks = [title];
    if (report.headline.trim())
        blocks.push(escapeMarkdown(report.headline.trim()));
    blocks.push(facts.join(' · '));
    return blocks;
}
function failureBlocks(report) {
    const failure = report.failure;
    if (!failure)
        return [];
    const where = failure.step === 0
        ? 'before traffic moved'
        : `at step ${failure.step} (${percent(failure.weight)} on the new fleet)`;
    return [`> **Failed ${where}, ${formatTime(failure.at)} UTC:** ${escapeMarkdown(failure.what)}`];
}
const MAX_WARNINGS = 50;
function warningBlocks(warnings) {
    if (warnings.length === 0)
        return [];
    const shown = warnings.slice(0, MAX_WARNINGS).map((w) => `- ⚠️ ${escapeCell(w, 1000)}`);
    if (warnings.length > MAX_WARNINGS)
        shown.push(`- and ${warnings.length - MAX_WARNINGS} more warnings in the log`);
    return ['### Warnings', shown.join('\n')];
}
// --- fleets and routes ------------------------------------------------------------------------
function fleetBlocks(fleets) {
    if (fleets.length === 0)
        return [];
    // The Auto Scaling column appears only when a fleet is a group: plain fleets read as they always did.
    const groups = fleets.some((fleet) => fleet.autoScaling);
    const rows = fleets.map((fleet) => [
        `**${escapeCell(fleet.name)}**`,
        change(fleet.roleBefore, fleet.roleAfter),
        change(markdown_shortVersion(fleet.versionBefore), markdown_shortVersion(fleet.versionAfter)),
        change(percent(fleet.weightBefore), percent(fleet.weightAfter)),
        `${fleet.instances.filter(isHealthy).length}/${fleet.instances.length}`,
        ...(groups ? [fleetGroupsCell(fleet)] : [])
    ]);
    const headers = ['fleet', 'role', 'version', 'traffic', 'healthy', ...(groups ? ['Auto Scaling group'] : [])];
    return ['### Fleets', table(headers, rows, [false, false, false, true, true, false])];
}
function routeBlocks(report) {
    if (report.routes.length === 0)
        return [];
    const order = report.fleets.map((f) => f.targetGroupArn);
    const rows = report.routes.map((route) => [
        escapeCell(route.label),
        formatWeights(route.before, order),
        formatWeights(route.after, order)
    ]);
    return ['### Routes', table(['route', 'weights before', 'weights after'], rows)];
}
/** `blue 100 · green 0`, in the fleets' order. */
function formatWeights(weights, order) {
    const arns = Object.keys(weights).sort((a, b) => rank(order, a) - rank(order, b));
    return arns.map((arn) => `${escapeCell((0,config_arn/* targetGroupName */.IT)(arn))} ${weights[arn]}`).join(' · ') || '–';
}
function rank(order, arn) {
    const i = order.indexOf(arn);
    return i < 0 ? order.length : i;
}
// --- plan -------------------------------------------------------------------------------------
const PLAN_INSTANCES_SHOWN = 10;
function planBlocks(plan, report) {
    const ids = plan.instanceIds;
    const shownIds = ids.slice(0, PLAN_INSTANCES_SHOWN).map((id) => escapeMarkdown(id));
    if (ids.length > PLAN_INSTANCES_SHOWN)
        shownIds.push(`and ${ids.length - PLAN_INSTANCES_SHOWN} more`);
    const facts = [
        `- **New fleet:** ${escapeMarkdown(plan.newFleet)}, ${markdown_count(ids.length, 'instance')}${ids.length ? `: ${shownIds.join(', ')}` : ''}`,
        `- **Old fleet:** ${escapeMarkdown(plan.oldFleet)}, keeps running so that going back is one weight change`
    ];
    for (const line of plan.prepare ?? [])
        facts.push(`- **First:** ${escapeMarkdown(line)}`);
    const last = plan.steps.at(-1);
    if (plan.pauses)
        facts.push(`- **Pauses** at ${percent(last?.weight ?? 0)} for a later \`promote\``);
    facts.push(...hookPlanFacts(plan));
    const restore = Object.entries(plan.restore).map(([arn, weights]) => {
        const label = report.routes.find((r) => r.arn === arn)?.label ?? (0,config_arn/* routeLabel */.qA)(arn);
        return `${escapeMarkdown(label)}: ${formatWeights(weights, report.fleets.map((f) => f.targetGroupArn))}`;
    });
    facts.push(`- **On failure, restore:** ${restore.length ? restore.join('; ') : 'nothing (traffic does not move)'}`);
    facts.push(`- **Checks:** ${plan.checks.length ? plan.checks.map((c) => escapeMarkdown(c)).join('; ') : 'target health only'}`);
    const blocks = ['### Plan', facts.join('\n')];
    if (plan.steps.length) {
        const rows = plan.steps.map((s, i) => [String(i + 1), percent(s.weight), (0,duration/* formatDuration */.a)(s.holdMs)]);
        blocks.push(table(['step', 'new fleet', 'hold'], rows, [true, true, true]));
    }
    return blocks;
}
// --- timeline and chart -----------------------------------------------------------------------
const OUTCOME = {
    held: 'held',
    failed: '**failed**',
    paused: 'paused',
    restored: 'restored',
    cancelled: '**cancelled**'
};
const MAX_CHECKS_SHOWN = 10;
function timelineBlocks(timeline) {
    if (timeline.length === 0)
        return [];
    const rows = timeline.map((entry) => {
        const checks = entry.checks.slice(0, MAX_CHECKS_SHOWN).map((c) => escapeCell(c));
        if (entry.checks.length > MAX_CHECKS_SHOWN)
            checks.push(`and ${entry.checks.length - MAX_CHECKS_SHOWN} more`);
        return [
            entry.step === 0 ? 'restore' : String(entry.step),
            percent(entry.weight),
            formatTime(entry.startedAt),
            entry.heldMs > 0 ? (0,duration/* formatDuration */.a)(entry.heldMs) : '–',
            OUTCOME[entry.outcome],
            checks.join('<br>') || '–'
        ];
    });
    return [
        '### Traffic',
        weightChart(timeline),
        table(['step', 'new fleet', 'start (UTC)', 'held', 'outcome', 'checks saw'], rows, [true, true])
    ];
}
// --- command results --------------------------------------------------------------------------
function isFailed(result) {
    return result.status !== 'Success';
}
/** Failed instances first, each group in the order reported. */
function orderCommandResults(commands) {
    return [...commands.instances.filter(isFailed), ...commands.instances.filter((r) => !isFailed(r))];
}
const COMMAND_IDS_SHOWN = 3;
/** Up to this many results are one table in view; beyond it the successes are folded away. */
const INLINE_RESULT_ROWS = 20;
function commandBlocks(commands, ordered, detail) {
    const others = commands.total - commands.succeeded - commands.failed;
    const counts = [
        `**${markdown_count(commands.total, 'instance')}:** ${commands.succeeded} succeeded`,
        `${commands.failed} failed`,
        others > 0 ? `${others} other` : undefined
    ]
        .filter(Boolean)
        .join(', ');
    const ids = commands.commandIds.slice(0, COMMAND_IDS_SHOWN).map((id) => escapeMarkdown(id));
    if (commands.commandIds.length > COMMAND_IDS_SHOWN)
        ids.push(`and ${commands.commandIds.length - COMMAND_IDS_SHOWN} more`);
    const facts = [
        counts,
        escapeMarkdown(commands.documentName),
        markdown_link('SSM command', commands.consoleUrl),
        markdown_link('log group', commands.logGroupUrl)
    ].filter((fact) => fact !== undefined);
    const blocks = ['### Commands', facts.join(' · ')];
    if (ids.length)
        blocks.push(`Command ${ids.length > 1 ? 'IDs' : 'ID'}: ${ids.join(', ')}`);
    if (ordered.length === 0)
        return blocks;
    const shown = ordered.slice(0, detail.rows);
    const resultTable = (results) => table(['instance', 'status', 'exit', 'took'], results.map((r) => [
        escapeCell(r.instanceId),
        formatStatus(r),
        r.exitCode === undefined ? '–' : String(r.exitCode),
        r.durationMs === undefined ? '–' : (0,duration/* formatDuration */.a)(r.durationMs)
    ]), [false, false, true, true]);
    const failedShown = shown.filter(isFailed);
    const succeededShown = shown.filter((r) => !isFailed(r));
    if (shown.length <= INLINE_RESULT_ROWS || succeededShown.length === 0) {
        blocks.push(resultTable(shown));
    }
    else {
        // A long list of successes would push everything below it out of sight; the failures
        // stay in view and the successes fold away.
        if (failedShown.length)
            blocks.push(resultTable(failedShown));
        blocks.push([
            `<details><summary>${markdown_count(succeededShown.length, 'instance')} that succeeded</summary>`,
            '',
            resultTable(succeededShown),
            '',
            '</details>'
        ].join('\n'));
    }
    const leftOut = ordered.length - shown.length;
    if (leftOut > 0) {
        const failedLeftOut = ordered.slice(detail.rows).filter(isFailed).length;
        blocks.push(`${leftOut.toLocaleString('en-US')} of ${ordered.length.toLocaleString('en-US')} instances not listed` +
            `${failedLeftOut ? ` (${failedLeftOut.toLocaleString('en-US')} of them failed)` : ', all of them succeeded'}` +
            `; failed instances are listed first. ${seeAlso(commands)}`);
    }
    blocks.push(...tailBlocks(commands, ordered, detail));
    return blocks;
}
function formatStatus(result) {
    const status = escapeCell(result.status, 40);
    const details = result.statusDetails && result.statusDetails !== result.status ? escapeCell(result.statusDetails, 60) : '';
    const text = details ? `${status} (${details})` : status;
    return isFailed(result) ? `**${text}**` : text;
}
function tailBlocks(commands, ordered, detail) {
    const small = ordered.length <= SMALL_FLEET;
    const withOutput = ordered.filter((r) => (isFailed(r) || small) && r.outputTail && r.outputTail.trim());
    if (withOutput.length === 0)
        return [];
    const shown = withOutput.slice(0, detail.tails);
    const blocks = [small ? '#### Output, last lines' : '#### Output of failed instances, last lines'];
    for (const result of shown) {
        const { text, cut } = lastLines(result.outputTail ?? '', detail.tailLines, detail.tailBytes);
        const exit = result.exitCode === undefined ? '' : `, exit ${result.exitCode}`;
        blocks.push([
            `<details><summary>${escapeMarkdown(result.instanceId)}: ${escapeMarkdown(result.status)}${exit}</summary>`,
            '',
            // `<pre>` at the start of a line opens an HTML block that ends only at `</pre>`, which
            // escaped text cannot contain, so blank lines in the output cannot end it early.
            `<pre>\n${cut ? '… earlier output cut\n' : ''}${escapeHtml(text)}\n</pre>`,
            '',
            '</details>'
        ].join('\n'));
    }
    const notShown = withOutput.length - shown.length;
    if (notShown > 0)
        blocks.push(`Output of ${notShown.toLocaleString('en-US')} more instances is not shown here. ${seeAlso(commands)}`);
    return blocks;
}
function seeAlso(commands) {
    const links = [markdown_link('SSM command', commands.consoleUrl), markdown_link('log group', commands.logGroupUrl)].filter(Boolean);
    return links.length ? `See the ${links.join(' and the ')}.` : 'See the step log.';
}
// --- instance health --------------------------------------------------------------------------
function isHealthy(instance) {
    return instance.state === 'healthy';
}
function healthBlocks(fleets, detail) {
    const withInstances = fleets.filter((f) => f.instances.length > 0);
    if (withInstances.length === 0)
        return [];
    const blocks = ['### Instance health'];
    for (const fleet of withInstances) {
        const ordered = [...fleet.instances.filter((i) => !isHealthy(i)), ...fleet.instances.filter(isHealthy)];
        const shown = ordered.slice(0, detail.rows);
        const rows = shown.map((i) => [
            escapeCell(i.id),
            isHealthy(i) ? escapeCell(i.state) : `**${escapeCell(i.state)}**`,
            escapeCell([i.reason, i.description].filter(Boolean).join(': ')) || '–'
        ]);
        const leftOut = ordered.length - shown.length;
        const parts = [
            `<details><summary>${escapeMarkdown(fleet.name)}: ${fleet.instances.filter(isHealthy).length}/${fleet.instances.length} healthy</summary>`,
            '',
            table(['instance', 'state', 'reason'], rows)
        ];
        if (leftOut > 0)
            parts.push('', `${leftOut.toLocaleString('en-US')} more instances left out, unhealthy ones listed first.`);
        parts.push('', '</details>');
        blocks.push(parts.join('\n'));
    }
    return blocks;
}
// --- last resort ------------------------------------------------------------------------------
/**
 * Keeps whole blocks in order while they fit (a table is cut between rows), then a note.
 * Blocks are complete markdown units, so the summary stays well-formed where it stops.
 */
function fitBlocks(blocks, maxBytes, report) {
    const links = report.commands ? ` ${seeAlso(report.commands)}` : '';
    const note = `**Summary cut here** to stay under ${Math.floor(maxBytes / 1024)} KiB.${links}`;
    let budget = maxBytes - bytes(note) - SEPARATOR_BYTES - 1;
    const kept = [];
    for (const block of blocks) {
        const size = bytes(block) + SEPARATOR_BYTES;
        if (size <= budget) {
            kept.push(block);
            budget -= size;
            continue;
        }
        if (block.startsWith('|')) {
            const lines = block.split('\n');
            let used = bytes(lines[0]) + bytes(lines[1]) + 2 + SEPARATOR_BYTES;
            let n = 2;
            while (n < lines.length && used + bytes(lines[n]) + 1 <= budget)
                used += bytes(lines[n++]) + 1;
            if (n > 2)
                kept.push(lines.slice(0, n).join('\n'));
        }
        break;
    }
    kept.push(note);
    return kept;
}

;// CONCATENATED MODULE: ./src/run-operation.ts















const OPERATIONS = {
    deploy: deploy,
    promote: promote,
    rollback: rollback,
    status: status_status,
    retire: retire
};
/** The main step: one operation, outputs and the job summary out. */
async function runOperation(started) {
    const cancel = new AbortController();
    const onSignal = (signal) => {
        if (!cancel.signal.aborted)
            lib_core/* warning */.$e(`Received ${signal}: stopping, and restoring traffic if it moved`);
        cancel.abort(new errors/* DeployError */.sH(`The run was cancelled (${signal})`));
    };
    // The runner sends SIGINT on cancel, SIGTERM 7.5 s later, then kills: handle both to restore in time.
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    const { startedAt, config } = started;
    try {
        if (started.inputError || !config)
            throw started.inputError;
        for (const warning of config.warnings)
            lib_core/* warning */.$e(warning);
        const ctx = {
            clients: createClients(config.region, started.elb),
            clock: systemClock,
            log: actionsLog,
            run: runIdentity(),
            signal: cancel.signal,
            saveProgress: saveProgress,
            routesAtStart: started.routes
        };
        const report = await OPERATIONS[config.operation](config, ctx);
        setOutputs(report);
        await writeSummary(report);
        // The result as an annotation on the run's page: a notice when the step did what was asked,
        // the failure's one line otherwise.
        if (failed(report))
            lib_core/* setFailed */.C1(report.headline);
        else
            lib_core/* notice */.lm(report.headline, { title: `${report.operation}: ${report.result}` });
    }
    catch (error) {
        const message = error instanceof errors/* DeployError */.sH ? error.message : `Unexpected error: ${error?.stack ?? String(error)}`;
        const report = newReport(config ?? { operation: 'deploy', dryRun: false, version: '' }, startedAt);
        report.result = 'failed';
        report.headline =
            error instanceof errors/* DeployError */.sH ? error.message : `Unexpected error: ${error?.message ?? String(error)}`;
        report.finishedAt = Date.now();
        setOutputs(report);
        await writeSummary(report).catch(() => undefined);
        if (error instanceof errors/* InputErrors */.G) {
            // One annotation per input, each the line it would be alone.
            for (const inputError of error.errors)
                lib_core/* error */.z3(inputError.message);
            process.exitCode = lib_core/* ExitCode */.yU.Failure;
        }
        else {
            lib_core/* setFailed */.C1(message);
        }
    }
    finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
    }
}
/** A deploy or promote that did not get its traffic where it was asked to is a failed step. */
function failed(report) {
    if (report.result === 'failed')
        return true;
    return report.result === 'rolled-back' && report.operation !== 'rollback';
}
async function writeSummary(report) {
    if (!process.env.GITHUB_STEP_SUMMARY)
        return;
    await lib_core/* summary */.z.addRaw(renderSummary(report), true).write();
}


/***/ })

};

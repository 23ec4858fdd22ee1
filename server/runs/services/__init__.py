"""Every run and node state transition, and nothing else.

Only the modules of this package change the state of runs and nodes; views,
tasks and the node runner call them. They are split by lifecycle stage:

* ``start``: create a run, start the workspace's waiting runs, and the run
  lock every transition takes (``transition``), whose commit publishes tasks
  and events and starts the runs a finished one made room for;
* ``readiness``: nodes becoming ready, slots, edges resolved or skipped;
* ``waiting``: ready approval nodes start waiting, with no task and no slot;
* ``approvals``: an approval's decision, by a person or by its timeout;
* ``execution``: a worker's side of one node (claim, heartbeat, tokens,
  success, failure and retries);
* ``finishing``: how a run ends inside a transition (done, over budget, stopped);
* ``stopping``: cancelling a run, timing one out;
* ``reaper``: repairs after crashes and lost messages;
* ``resume``: a new run that reuses what is still valid of an old one.

Each public function is one transaction that first locks the run row, then
changes node rows with compare-and-set UPDATEs on ``state`` and ``attempt``. A
duplicate task delivery, a stale worker or a reaper racing a slow node finds
the transition already made and changes nothing: no output is recorded twice
and no successor is enqueued twice.

Lock order is always workspace, then run, then node rows; nothing here takes
a workspace lock while holding a run lock, so transitions cannot deadlock.
The state machine is described in docs/run-semantics.md.
"""

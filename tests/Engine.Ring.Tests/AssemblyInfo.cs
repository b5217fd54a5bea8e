// Ring tests start several producer and consumer threads each; on a two-core machine, running test
// classes in parallel would oversubscribe the cores and turn timing into luck. Run them one at a time.
[assembly: CollectionBehavior(DisableTestParallelization = true)]

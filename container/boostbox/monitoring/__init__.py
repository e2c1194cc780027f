"""Drift monitoring: a training-time baseline, live statistics on the endpoint, offline reports.

The flow, one stage per module:

    training:  features in memory + predictions on validation (or train)
               -> sketch.summarize (count, missing, mean, std, min, max, KLL sketch, bin edges)
               -> baseline.write_baseline:
                    output/data/baseline/statistics.json   (Model Monitor's format)
                    output/data/baseline/constraints.json  (completeness, non-negativity, threshold)
                    model/boostbox-baseline.json            (bin edges + counts, read by serving)

    serving:   master: service.create_shared_store (one counter row per worker slot in /dev/shm)
               worker: service.open_monitor -> recorder.Recorder.observe(matrix, predictions)
                       and Recorder.request(latency): lock-free appends on the request path,
                       binned in batches (vectorised) into this worker's row by `flush`
               GET /monitoring (http.py): rows summed -> report.build (drift.distance per
                       column) -> JSON, or report.prometheus; service.Monitor logs a distance
                       over the threshold at most once per column per window

    offline:   capture.read_capture(folder of data-capture JSONL) -> the same Monitor over a
               LocalStore -> the same report.build + constraint_violations.json (+ plot.py: PNG)

Distances (per feature and per prediction column, over the baseline's bins):
Model Monitor's L-infinity CDF distance (`linf_simple`), its robust form corrected for the
number of samples (`linf_robust`, the two-sample KS critical value, c_alpha = 1.8), and PSI.
"""

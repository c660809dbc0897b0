-- wrk script: prints finer latency percentiles than --latency, for the tail of the slow scenario.
--   wrk -t1 -c32 -d20s -s bench/percentiles.lua -H 'Sluice-Revision: default/slow' http://127.0.0.1:18080/
done = function(summary, latency, requests)
  local s = ""
  for _, p in ipairs({50, 90, 95, 98, 99, 99.5, 99.9}) do
    s = s .. string.format("p%s=%.1fms ", p, latency:percentile(p) / 1000)
  end
  io.write(s .. string.format("max=%.1fms requests=%d\n", latency.max / 1000, summary.requests))
end

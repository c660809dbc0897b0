/**
 * JMH benchmarks of Sluice's hot and cold paths. Build with {@code mvn -q package -DskipTests}
 * and run {@code java -jar sluice-benchmarks/target/benchmarks.jar -prof gc}; the commands
 * behind each published figure are in {@code docs/benchmarks.md}.
 *
 * <p>Starting points: {@link dev.sluice.benchmarks.PolicyBenchmark} (pick + reserve + release
 * per policy), {@link dev.sluice.benchmarks.ThrottlerBenchmark} (the whole admission cycle),
 * {@link dev.sluice.benchmarks.PodTableBenchmark} (adding and removing a pod). The scale
 * benchmark, N revisions × M pods in one Sluice process, is {@code dev.sluice.benchmarks.scale}
 * (run by {@code bench/scale.sh}).
 */
package dev.sluice.benchmarks;

# Draws the open-loop curves of `make bench` (scripts/bench.sh) into two PNGs.
# Usage: gnuplot -e "data='open.dat'; outdir='docs/img'; subtitle='...'" scripts/plot-bench.gp
# Columns of `data`: offered rate, then achieved hits/s, p50 ms and p99 ms for nginx (2-4) and the
# gateway (5-7); '?' marks a run that was skipped.
if (!exists("data")) data = 'open.dat'
if (!exists("outdir")) outdir = 'docs/img'
if (!exists("subtitle")) subtitle = ''

set datafile missing '?'
set terminal pngcairo size 900,560 font 'DejaVu Sans,10'
set grid
set key top left
set xlabel 'offered rate (requests/s, open loop)'
set format x '%.0s%c'
set format y '%.0s%c'

set output outdir.'/bench-throughput.png'
set title "Achieved hits/s against offered rate\n{/*0.8 ".subtitle."}"
set ylabel 'hits/s acknowledged'
plot data using 1:1 with lines dashtype 2 lc rgb '#999999' title 'offered', \
     data using 1:2 with linespoints pt 7 lc rgb '#1f77b4' title 'nginx return 204', \
     data using 1:5 with linespoints pt 5 lc rgb '#d62728' title 'matomo-gateway + Redis'

set output outdir.'/bench-latency.png'
set title "Latency from the intended send time against offered rate\n{/*0.8 ".subtitle."}"
set ylabel 'latency (ms, log scale)'
set logscale y
set format y '%g'
set key top left
plot data using 1:3 with linespoints pt 6 dashtype 2 lc rgb '#1f77b4' title 'nginx p50', \
     data using 1:4 with linespoints pt 7 lc rgb '#1f77b4' title 'nginx p99', \
     data using 1:6 with linespoints pt 4 dashtype 2 lc rgb '#d62728' title 'gateway p50', \
     data using 1:7 with linespoints pt 5 lc rgb '#d62728' title 'gateway p99', \
     5 with lines dashtype 3 lc rgb '#2ca02c' title '5 ms (p99 goal)'

# SPDX-License-Identifier: GPL-2.0-or-later
# bench/plots.gp: the simulator's plots for docs/benchmarks.md.
# gnuplot -e "data='DIR'; out='DIR'" bench/plots.gp

set terminal pngcairo size 900,520 font "sans,10" noenhanced
set datafile missing "NaN"
set grid ytics lc rgb "#dddddd"
set border 3
set tics nomirror

# 1. What each policy achieves, by what the physics allow.
set output out."/sim-share.png"
set title "Simulated migrations (fake-qemu model): share completed within 500 ms, or given up when hopeless"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set ylabel "% of the scenarios in the class"
set yrange [0:110]
set key top center horizontal
plot data."/sim-share.dat" using 2:xtic(1) title "easy: completed" lc rgb "#4477aa", \
     "" using 3 title "fixable: completed" lc rgb "#66ccee", \
     "" using 4 title "hopeless: gave up" lc rgb "#ee6677"

# 2. Total time against the oracle's, scenario by scenario.
reset
set terminal pngcairo size 900,620 font "sans,10" noenhanced
set datafile missing "NaN"
set output out."/sim-time.png"
set title "Simulated: total time of each completed migration against the oracle's (log scales)"
set logscale xy
set grid lc rgb "#dddddd"
set xlabel "oracle's total time (s)"
set ylabel "the policy's total time (s)"
set key top left
set xrange [0.1:100000]
set yrange [0.1:100000]
plot data."/sim-time.dat" using 1:4 title "nova" with points pt 6 ps 0.8 lc rgb "#ccbb44", \
     "" using 1:5 title "vdsm" with points pt 4 ps 0.7 lc rgb "#228833", \
     "" using 1:6 title "proxmox" with points pt 8 ps 0.7 lc rgb "#aa3377", \
     "" using 1:2 title "pray (QEMU defaults)" with points pt 1 ps 0.7 lc rgb "#bbbbbb", \
     "" using 1:7 title "kubevirt" with points pt 12 ps 0.7 lc rgb "#ee7733", \
     "" using 1:9 title "adaptive" with points pt 7 ps 0.5 lc rgb "#4477aa", \
     x title "same as the oracle" with lines dt 2 lc rgb "#000000", \
     1.5 * x title "1.5x the oracle" with lines dt 3 lc rgb "#ee6677"

# 3. How long each policy takes to give up on hopeless migrations.
reset
set terminal pngcairo size 900,520 font "sans,10" noenhanced
set datafile missing "NaN"
set output out."/sim-giveup.png"
set title "Simulated hopeless migrations: time until the policy gives up (cumulative share)"
set logscale x
set grid lc rgb "#dddddd"
set xlabel "model time from the start (preflight included) to cancelled or refused (s)"
set ylabel "share of the hopeless scenarios given up"
set yrange [0:1.05]
set key bottom right
plot data."/sim-giveup.dat" using 8:(1) smooth cnormal title "adaptive" lw 2 lc rgb "#4477aa", \
     "" using 7:(1) smooth cnormal title "adaptive-pass (pass by pass)" lw 2 dt 2 lc rgb "#4477aa", \
     "" using 6:(1) smooth cnormal title "kubevirt" lw 2 lc rgb "#ee7733", \
     "" using 4:(1) smooth cnormal title "vdsm" lw 2 lc rgb "#228833", \
     "" using 3:(1) smooth cnormal title "nova" lw 2 lc rgb "#ccbb44"

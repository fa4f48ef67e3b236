# perf/lwps.gp: docs/lwps.png from perf/bench_lwps.sh's numbers.
# gnuplot -e "dat='FILE'; secs=S" perf/lwps.gp; FILE has one row per LWP
# count: lwps, first status line (s), set-up to the start barrier (s),
# touches/s, wall time past -t (s).
if (!exists("dat")) dat = 'perf/results/lwps.dat'
if (!exists("secs")) secs = 5
set terminal pngcairo size 900,620 font "sans,10"
set output 'docs/lwps.png'
set multiplot layout 2,1 title sprintf("uvmstress --scenario touch, 2 CPUs, 256 MiB RAM, -t %d: by LWP count (each its own process)", secs)
set logscale x 2
set xrange [0.8:1300]
set xtics (1,2,4,8,16,32,64,128,256,512,1024)
set grid
set key top left
set ylabel "seconds"
set yrange [0:*]
plot dat using 1:2 with linespoints lw 2 pt 7 title "first status line", \
     dat using 1:3 with linespoints lw 2 pt 5 title "set-up (to the start barrier)", \
     dat using 1:5 with linespoints lw 2 pt 9 title "wall time past -t", \
     2 with lines dt 2 lc rgb "gray40" title "aim: status within 2 s"
set logscale y 10
set yrange [*:*]
set ylabel "touches/s"
set xlabel "LWPs (--lwps)"
set key top right
plot dat using 1:4 with linespoints lw 2 pt 7 lc rgb "dark-green" title "touches/s (pages from 256 LWPs on exceed the RAM: paging)"
unset multiplot

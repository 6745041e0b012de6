# plot.gp - chart of bench/mech's table: cost per system call number for
# each mechanism, as grouped bars (median) with min..max error bars.
#
#   gnuplot -e "in='mech.txt'; out='mech.png'" bench/plot.gp
#   (optional: title='...' replaces the first line of the title; bench/run.sh
#   sets it for the plots of docs/performance.md)
#
# Input columns (see bench/README.md): 1 mech, 2 nr, 3 syscall, 4 calls,
# 5 reps, 6 median_ns, 7 min_ns, 8 max_ns, 9 ratio, 10 delta_ns; lines
# starting with '#' are comments.  Any set of mechanisms and numbers works:
# the groups and series are read from the file, in the file's order for
# mechanisms and by number for system calls.

if (!exists("in")) in = "mech.txt"
if (!exists("out")) out = "mech.png"
if (!exists("title")) title = "Cost of one system call, by number and mechanism"

# gnuplot cannot collect distinct values by itself; awk does it once.
data  = "awk '!/^#/ && NF >= 8' '" . in . "'"
mechs = system(data . " | awk '!seen[$1]++ { printf \"%s \", $1 }'")
nrs   = system(data . " | awk '!seen[$2]++ { print $2 }' | sort -n | tr '\\n' ' '")
names = system(data . " | awk '!seen[$2]++ { print $2, $3 }' | sort -n | awk '{ printf \"%s \", $2 }'")
M = words(mechs)
N = words(nrs)
if (M == 0) { print "plot.gp: no data rows in " . in; exit status 1 }

# Group of a number: its position in nrs.  Bars of one group sit side by side.
slot(n) = sum [k=1:N] (word(nrs, k) + 0 == n ? k : 0)
bw = 0.8 / M
xpos(n, i) = slot(n) - 0.4 + (i - 0.5) * bw

# Axis bounds from the error bars, so that no bar or label is cut off.
stats in using 7 nooutput
lo = STATS_min
stats in using 8 nooutput
hi = STATS_max
stats in using 5 nooutput
reps = int(STATS_max)

# ptrace, seccomp and SUD cost tens to thousands of times a native call:
# a linear axis would flatten everything else to nothing.
uselog = (hi / lo > 20)
if (lo <= 0) { uselog = 0 }
if (uselog) {
    set logscale y 10
    set yrange [lo / 2 : hi * 4]
    set ylabel "ns per call (log scale)"
} else {
    set yrange [0 : hi * 1.15]
    set ylabel "ns per call"
}

set terminal pngcairo size 1200, 700 font "DejaVu Sans,10"
set output out
set title sprintf("%s\nmedian of %d repetitions, error bars min..max", title, reps)
set xlabel "system call"
set xrange [0.4 : N + 0.6]
set xtics nomirror scale 0
set xtics ()
do for [k=1:N] { set xtics add (sprintf("%s (%s)", word(names, k), word(nrs, k)) k) }
set grid ytics
set key outside right top
set style fill solid 0.85 border -1
set boxwidth bw * 0.95 absolute
set datafile missing "-"

sel(i, col) = (strcol(1) eq word(mechs, i) ? column(col) : NaN)
# Twelve distinct colours: gnuplot's own `lc i` repeats after eight, and the
# getpid plot has more mechanisms than that.
colours = "#9400d3 #009e73 #56b4e9 #e69f00 #f0e442 #0072b2 #e51e10 #000000 #a0522d #ff69b4 #808080 #2e8b57"
colour(i) = word(colours, (i - 1) % words(colours) + 1)
# Value labels, rotated so that neighbouring bars do not overwrite each other.
num(v) = (v < 10 ? sprintf("%.2f", v) : sprintf("%.0f", v))

# On a log axis the boxes start at the bottom of the plot rather than at 0.
plot for [i=1:M] in using (xpos($2, i)):(sel(i, 6)) with boxes lc rgb colour(i) title word(mechs, i), \
     for [i=1:M] in using (xpos($2, i)):(sel(i, 6)):(sel(i, 7)):(sel(i, 8)) \
         with yerrorbars lc rgb "black" pt 7 ps 0.4 notitle, \
     for [i=1:M] in using (xpos($2, i)):(sel(i, 8)):(num(sel(i, 6))) \
         with labels rotate by 90 left offset 0, 0.5 font ",8" notitle

# The blog's "Generational Garbage Collection": the counts and the thresholds; the import the post
# leaves out is added, marked.
import gc  # added

print(gc.get_count())
print(gc.get_threshold())

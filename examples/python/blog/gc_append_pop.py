# The blog's "동작 방식": 2000 lists appended and popped, the counts printed each time; the import
# the post leaves out is added, marked.
import gc  # added

print(gc.get_threshold())

li = []
for i in range(2000):
    li.append([])
    print(gc.get_count())
    li.pop()

# A list made, given one item and let go inside a function: `cargo model run --trace` shows what
# the model's objects and allocators do for each line.
def build():
    li = []
    li.append("a string of thirty characters!")
    return len(li)


print(build())

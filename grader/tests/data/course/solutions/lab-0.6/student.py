def total(n):
    numbers = list(range(n))
    return sum(numbers)

// Where Debian's dataset-fashion-mnist package puts its idx files.
export const FASHION_MNIST_IDX = "/usr/share/datasets/fashion-mnist";

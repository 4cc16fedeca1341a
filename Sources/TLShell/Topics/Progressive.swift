extension Topic {
    static let progressive = Topic(
        name: "progressive", title: "Progressive neural networks",
        text: """
          Keep the source network (a "column") frozen and add a new column for the target task.
          Each layer of the new column also receives the previous layer's activations of every
          frozen column through learnt lateral connections. Nothing the source learnt is
          forgotten (its column never changes), and the new task can use any of its features.
          The cost: the model grows with every task. Columns share one layout — mlps of one
          depth, or cnn()s, whose convolutions get convolutional lateral connections.
          """,
        formula: """
          h_i^(k) = f( W_i^(k) h_{i−1}^(k) + Σ_{j<k} U_i^(k:j) h_{i−1}^(j) )
          """,
        example: """
          seed(1)
          source = mlp([2352, 64, 32, 10])
          train(source, digits(600), epochs=3, quiet=true);
          net = progressive([source], mlp([2352, 64, 32, 10]))
          train(net, take(digits(300, style="usps", seed=2), 3, per_class=true), epochs=10, batch=10, quiet=true);
          round(evaluate(net, digits(300, style="usps", seed=3)).accuracy, 2)
          """)
}

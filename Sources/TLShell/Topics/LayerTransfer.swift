extension Topic {
    static let layerTransfer = Topic(
        name: "layer-transfer", title: "Layer transfer",
        text: """
          Copy the first layers of a source network into a new one and train only the rest on the
          target (freeze the copies), or fine-tune the copies too. Early layers learn generic
          features (edges, strokes) and transfer well; late layers are specific to the source's
          classes. In speech the last layers transfer better, in images the first: which layers to
          copy depends on where the domains differ. copy_weights(from, to) copies, freeze(view)
          fixes a part such as net[0:4].
          """,
        formula: """
          θ_target[0:k] = θ_source[0:k]  (frozen or trainable);  θ_target[k:] trained on the target
          """,
        example: """
          seed(1)
          base = cnn()
          train(base, digits(600), epochs=2, optimizer="adam", lr=0.001, quiet=true);
          net = cnn()
          copy_weights(base[0:4], net[0:4])
          freeze(net[0:4])
          summary(net)
          train(net, take(digits(300, style="usps", seed=2), 5, per_class=true), epochs=10, batch=10, quiet=true);
          round(evaluate(net, digits(300, style="usps", seed=3)).accuracy, 2)
          """)
}

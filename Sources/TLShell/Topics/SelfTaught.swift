extension Topic {
    static let selfTaught = Topic(
        name: "self-taught", title: "Self-taught learning and self-taught clustering",
        text: """
          The source data has no labels at all (and need not share the target's classes): learn
          features from it without supervision — an autoencoder reconstructing its input — and
          use the encoder for the labelled target: as fixed features for a linear classifier
          (linear_probe), or as the start of a network to fine-tune. Self-taught clustering
          clusters the target in such a learnt feature space instead of raw pixels (kmeans,
          cluster_score). autoencoder(sizes) mirrors an MLP encoder; autoencoder(encoder, decoder)
          takes two models and trains the encoder itself (they share weights): a convolutional
          encoder, and a decoder back up to images through unflatten, upsample and conv.
          """,
        formula: """
          autoencoder:  min ‖x − g(f(x))‖² over unlabelled x;   target model: h(f(x)) or fine-tuned f
          """,
        example: """
          seed(1)
          ae = autoencoder([2352, 64, 16])
          train(ae, unlabel(digits(600)), epochs=3, optimizer="adam", lr=0.001, quiet=true);
          few = take(digits(300, style="usps", seed=2), 5, per_class=true)
          p = linear_probe(ae.encoder, few)
          evaluate(p, digits(200, style="usps", seed=3))
          ids = kmeans(ae.encoder(digits(200, style="usps", seed=3).x), 10)
          cluster_score(ids, digits(200, style="usps", seed=3).y)
          """)
}

extension Topic {
    static let pixelda = Topic(
        name: "pixelda", title: "PixelDA: adapting the images instead of the features",
        text: """
          Bousmalis et al. (2017) move the source into the target's domain in pixel space. A
          generator takes a source image and a channel of noise and gives a change to it; the
          generated image (source + change) is judged by a discriminator against real target
          images, and the generator learns to pass for real. The task classifier learns the source
          labels on generated images (and on the source), so it reads target-style images; a
          content loss keeps the generated image's foreground — the digit's strokes — as the
          source had it, so the label stays true. generate(p, x) shows the restyled images.
          Weights: adversarial 0.1 (1 and 0.3 let the discriminator win outright within 3 epochs
          on the seed tried: 0.728, 0.712 against 0.763), task 1, content 1. At 3 epochs the
          generator learns the target's colour statistics (a tint), not its textures: the paper
          trains for hours on a GPU. As attach()ed models do, a pixelda() model keeps its
          weights averaged over about the last 20 steps (train's ema=0.95; ema=0 keeps the last
          step's). Measured (mnist → mnistm, 3 000 + 3 000, 3 epochs, train's defaults, 3
          seeds): PixelDA 0.774 ± 0.023 (0.743 ± 0.030 with the last step's weights) against
          0.604 ± 0.056 for source only with the same classifier (the paper: 0.98 against 0.64).
          """,
        formula: """
          x_f = x_s + G(x_s, z)
          L_D = CE(D(x_t), real) + CE(D(x_f), generated)          (the discriminator)
          L_G = a · CE(D(x_f), real) + t · [CE(T(x_f), y_s) + CE(T(x_s), y_s)] + c · mean_foreground (x_f − x_s)²
          """,
        example: """
          seed(1)
          src = digits(200)
          tgt = unlabel(digits(200, style="mnistm", seed=2))
          gen = sequential(conv(4, 8, 3, pad=1), relu(), conv(8, 3, 3, pad=1), tanh())
          p = pixelda(gen, sequential(conv(3, 8, 3, stride=2, pad=1), relu(), flatten(), linear(1568, 2)), cnn())
          h = train(p, src, target=tgt, quiet=true)
          h.names
          generate(p, take(src, 4)).shape
          """)
}
